"""The seeds' remedies (ODD 7.7): programmes a platform runs at a cost, each in its own module."""
