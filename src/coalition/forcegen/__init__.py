"""forcegen package."""
