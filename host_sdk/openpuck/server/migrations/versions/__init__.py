"""The clinic database's migrations, oldest first; never edit one that has shipped."""
