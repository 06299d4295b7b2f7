"""Records and queries: the models, the SQL behind lists, exports and the gate, the audit chain and the outbox."""
