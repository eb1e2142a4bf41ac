"""Email providers' delivery, bounce and complaint reports (placeholder until written)."""
