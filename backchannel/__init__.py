"""backchannel: archive conference backchannels into a static site you own."""

__version__ = "0.1.0"
