-- The schema-1 database as tui-scheduler 0.x (SCHEMA_VERSION = 1) created it, dumped
-- from a real file; tests/store/test_migration.py opens it with today's code.

CREATE TABLE job (
	id INTEGER NOT NULL, 
	name VARCHAR NOT NULL, 
	description VARCHAR NOT NULL, 
	kind VARCHAR NOT NULL, 
	target VARCHAR NOT NULL, 
	schedule VARCHAR NOT NULL, 
	timezone VARCHAR NOT NULL, 
	enabled BOOLEAN NOT NULL, 
	paused BOOLEAN NOT NULL, 
	timeout_s FLOAT, 
	stop_grace_s FLOAT NOT NULL, 
	retries INTEGER NOT NULL, 
	retry_delay_s FLOAT NOT NULL, 
	retry_backoff FLOAT NOT NULL, 
	retry_max_delay_s FLOAT NOT NULL, 
	overlap VARCHAR NOT NULL, 
	misfire VARCHAR NOT NULL, 
	catchup_limit INTEGER NOT NULL, 
	stop_on_error BOOLEAN NOT NULL, 
	restartable BOOLEAN NOT NULL, 
	params VARCHAR NOT NULL, 
	env VARCHAR NOT NULL, 
	workdir VARCHAR NOT NULL, 
	tags VARCHAR NOT NULL, 
	engines VARCHAR NOT NULL, 
	state VARCHAR NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	deleted_at DATETIME, 
	last_fire_at DATETIME, 
	PRIMARY KEY (id)
);
CREATE UNIQUE INDEX ux_job_name_live ON job (name) WHERE deleted_at IS NULL;
CREATE TABLE engine_lock (
	id INTEGER NOT NULL, 
	host VARCHAR NOT NULL, 
	pid INTEGER NOT NULL, 
	token VARCHAR NOT NULL, 
	started_at DATETIME NOT NULL, 
	heartbeat_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE engine_node (
	token VARCHAR NOT NULL, 
	host VARCHAR NOT NULL, 
	pid INTEGER NOT NULL, 
	started_at DATETIME NOT NULL, 
	heartbeat_at DATETIME NOT NULL, 
	PRIMARY KEY (token)
);
CREATE TABLE control (
	id INTEGER NOT NULL, 
	action VARCHAR NOT NULL, 
	job_id INTEGER, 
	run_id INTEGER, 
	payload VARCHAR NOT NULL, 
	created_at DATETIME NOT NULL, 
	done_at DATETIME, 
	result VARCHAR NOT NULL, 
	claimed_by VARCHAR NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_control_done_at ON control (done_at);
CREATE TABLE meta (
	"key" VARCHAR NOT NULL, 
	value VARCHAR NOT NULL, 
	PRIMARY KEY ("key")
);
CREATE TABLE run (
	id INTEGER NOT NULL, 
	job_id INTEGER NOT NULL, 
	"trigger" VARCHAR NOT NULL, 
	status VARCHAR NOT NULL, 
	scheduled_for DATETIME, 
	created_at DATETIME NOT NULL, 
	started_at DATETIME, 
	finished_at DATETIME, 
	exit_code INTEGER, 
	error VARCHAR NOT NULL, 
	attempt INTEGER NOT NULL, 
	host VARCHAR NOT NULL, 
	pid INTEGER, 
	heartbeat_at DATETIME, 
	progress_done FLOAT, 
	progress_total FLOAT, 
	progress_message VARCHAR NOT NULL, 
	output_bytes INTEGER NOT NULL, 
	output_truncated BOOLEAN NOT NULL, 
	params VARCHAR NOT NULL, 
	owner VARCHAR NOT NULL, 
	shard VARCHAR DEFAULT '' NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(job_id) REFERENCES job (id)
);
CREATE INDEX ix_run_status ON run (status);
CREATE INDEX ix_run_job_id_desc ON run (job_id, id);
CREATE UNIQUE INDEX ux_run_fire ON run (job_id, scheduled_for, shard) WHERE trigger IN ('schedule', 'catch-up');
CREATE TABLE run_output (
	id INTEGER NOT NULL, 
	run_id INTEGER NOT NULL, 
	seq INTEGER NOT NULL, 
	stream VARCHAR NOT NULL, 
	text VARCHAR NOT NULL, 
	lines INTEGER NOT NULL, 
	nbytes INTEGER NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(run_id) REFERENCES run (id)
);
CREATE INDEX ix_run_output_run_seq ON run_output (run_id, seq);
INSERT INTO meta VALUES ('schema_version', '1'), ('change_counter', '0');
