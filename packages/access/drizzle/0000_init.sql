CREATE TABLE `settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `users` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`role` text NOT NULL,
	`token_id` text NOT NULL,
	`token_hash` blob NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	CONSTRAINT "users_role" CHECK("users"."role" IN ('admin', 'operator', 'viewer'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_name` ON `users` (`name`);--> statement-breakpoint
CREATE UNIQUE INDEX `users_token_hash` ON `users` (`token_hash`);