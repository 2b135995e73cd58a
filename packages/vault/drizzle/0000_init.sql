CREATE TABLE `credentials` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`service` text NOT NULL,
	`secret` blob NOT NULL,
	`domains` text NOT NULL,
	`auth_type` text NOT NULL,
	`header_name` text,
	`query_param` text,
	`scopes` text NOT NULL,
	`expires_at` text,
	`rate_limit` text,
	`body_inspection` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	`rotated_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `credentials_name_unique` ON `credentials` (`name`);--> statement-breakpoint
CREATE UNIQUE INDEX `credentials_service_unique` ON `credentials` (`service`);--> statement-breakpoint
CREATE TABLE `meta` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
