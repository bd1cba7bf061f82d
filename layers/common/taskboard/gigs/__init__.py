"""The service marketplace (issue 16): categories now; gigs and orders build on the task machinery."""
