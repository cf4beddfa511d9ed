"""What several test modules share: plain functions, classes and data (fixtures stay in conftest)."""
