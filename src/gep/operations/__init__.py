"""Running the platform for years: backups and their restore, the keys outside the database, the audit log's
archive. Composition-root code: it sees every domain's tables and the migrations."""
