using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Lethe.Storage.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class PrivacyKeys : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Route",
                table: "TelemetryEvents",
                type: "character varying(512)",
                maxLength: 512,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<long>(
                name: "ErasedAtVersion",
                table: "GalleryCatalogVersions",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.UpdateData(
                table: "GalleryCatalogVersions",
                keyColumn: "Id",
                keyValue: 1,
                column: "ErasedAtVersion",
                value: 0L);

            // Email keys are stored trimmed and lower-cased from now on (the privacy engine seeks them by equality);
            // telemetry no longer keeps raw paths, which could name another person (`/members/{principalId}`).
            migrationBuilder.Sql("UPDATE \"WorkspaceMembers\" SET \"Email\" = lower(trim(\"Email\"))");
            migrationBuilder.Sql("UPDATE \"Labs\" SET \"NotificationEmail\" = lower(trim(\"NotificationEmail\")), \"RemovedNotificationEmail\" = lower(trim(\"RemovedNotificationEmail\"))");
            migrationBuilder.Sql("UPDATE \"LabVirtualMachines\" SET \"NotificationEmail\" = lower(trim(\"NotificationEmail\")), \"RemovedNotificationEmail\" = lower(trim(\"RemovedNotificationEmail\"))");
            migrationBuilder.Sql("UPDATE \"TelemetryEvents\" SET \"Resource\" = '' WHERE \"Resource\" LIKE '%/members/%'");
            migrationBuilder.CreateIndex(
                name: "IX_WorkspaceMembers_Email",
                table: "WorkspaceMembers",
                column: "Email");

            migrationBuilder.CreateIndex(
                name: "IX_Labs_NotificationEmail",
                table: "Labs",
                column: "NotificationEmail");

            migrationBuilder.CreateIndex(
                name: "IX_Labs_RemovedNotificationEmail",
                table: "Labs",
                column: "RemovedNotificationEmail");

            migrationBuilder.CreateIndex(
                name: "IX_LabVirtualMachines_NotificationEmail",
                table: "LabVirtualMachines",
                column: "NotificationEmail");

            migrationBuilder.CreateIndex(
                name: "IX_LabVirtualMachines_RemovedNotificationEmail",
                table: "LabVirtualMachines",
                column: "RemovedNotificationEmail");

            migrationBuilder.CreateIndex(
                name: "IX_GalleryAuthors_Email",
                table: "GalleryAuthors",
                column: "Email");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_WorkspaceMembers_Email",
                table: "WorkspaceMembers");

            migrationBuilder.DropIndex(
                name: "IX_Labs_NotificationEmail",
                table: "Labs");

            migrationBuilder.DropIndex(
                name: "IX_Labs_RemovedNotificationEmail",
                table: "Labs");

            migrationBuilder.DropIndex(
                name: "IX_LabVirtualMachines_NotificationEmail",
                table: "LabVirtualMachines");

            migrationBuilder.DropIndex(
                name: "IX_LabVirtualMachines_RemovedNotificationEmail",
                table: "LabVirtualMachines");

            migrationBuilder.DropIndex(
                name: "IX_GalleryAuthors_Email",
                table: "GalleryAuthors");

            migrationBuilder.DropColumn(
                name: "Route",
                table: "TelemetryEvents");

            migrationBuilder.DropColumn(
                name: "ErasedAtVersion",
                table: "GalleryCatalogVersions");
        }
    }
}
