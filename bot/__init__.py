"""CDO Hub: the Slack hub where the company's functions meet around digital transformation."""

__version__ = "0.1.0"
