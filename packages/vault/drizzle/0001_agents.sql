CREATE TABLE `agents` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`token_hash` blob NOT NULL,
	`prefix` text NOT NULL,
	`rate_limit` text,
	`max_in_flight` integer,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	`token_rotated_at` text,
	CONSTRAINT "agents_token_hash_length" CHECK(length("agents"."token_hash") = 32),
	CONSTRAINT "agents_max_in_flight_positive" CHECK("agents"."max_in_flight" IS NULL OR "agents"."max_in_flight" > 0)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `agents_name_unique` ON `agents` (`name`);--> statement-breakpoint
CREATE UNIQUE INDEX `agents_token_hash_unique` ON `agents` (`token_hash`);--> statement-breakpoint
CREATE TABLE `grants` (
	`agent_id` text NOT NULL,
	`credential_id` text NOT NULL,
	`created_at` text NOT NULL,
	PRIMARY KEY(`agent_id`, `credential_id`),
	FOREIGN KEY (`agent_id`) REFERENCES `agents`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`credential_id`) REFERENCES `credentials`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `grants_credential_id` ON `grants` (`credential_id`);