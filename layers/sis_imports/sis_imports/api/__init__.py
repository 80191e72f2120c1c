"""The HTTP API: import history, alert status and calendars, behind the JWT authorizer."""
