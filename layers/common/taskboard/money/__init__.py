"""Credits: escrow, payouts, fees, refunds and tips, with the ledger that explains every balance."""
