CREATE TABLE `entries` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`time` text NOT NULL,
	`ts` integer NOT NULL,
	`request_id` text,
	`channel` text NOT NULL,
	`agent` text,
	`credential` text,
	`service` text,
	`target_host` text,
	`method` text,
	`path` text,
	`decision` text NOT NULL,
	`code` text,
	`status` integer,
	`duration_ms` integer,
	`bytes_in` integer,
	`bytes_out` integer,
	`dry_run` text,
	`redactions` integer,
	`inspection` text,
	`event` text,
	`detail` text
);
--> statement-breakpoint
CREATE INDEX `entries_ts_idx` ON `entries` (`ts`);--> statement-breakpoint
CREATE INDEX `entries_service_idx` ON `entries` (`service`);--> statement-breakpoint
CREATE INDEX `entries_agent_idx` ON `entries` (`agent`);--> statement-breakpoint
CREATE INDEX `entries_decision_idx` ON `entries` (`decision`);