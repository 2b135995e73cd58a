ALTER TABLE `agents` ADD `seal` blob;--> statement-breakpoint
ALTER TABLE `grants` ADD `seal` blob;