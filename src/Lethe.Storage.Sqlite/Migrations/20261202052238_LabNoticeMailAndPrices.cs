using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Lethe.Storage.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class LabNoticeMailAndPrices : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "PricesJson",
                table: "Labs",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "MailAttempts",
                table: "LabShutdownNotices",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<string>(
                name: "MailLastError",
                table: "LabShutdownNotices",
                type: "TEXT",
                maxLength: 200,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "MailNextAttemptAt",
                table: "LabShutdownNotices",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "MailState",
                table: "LabShutdownNotices",
                type: "TEXT",
                maxLength: 32,
                nullable: false,
                defaultValue: "");

            // Notices from before: sent ones say so; the others were recorded without an email (no
            // SMTP server, or a failure that was not retried then).
            migrationBuilder.Sql("""UPDATE "LabShutdownNotices" SET "MailState" = CASE WHEN "EmailSentAt" IS NULL THEN 'NoMailServer' ELSE 'Sent' END, "MailAttempts" = CASE WHEN "EmailSentAt" IS NULL THEN 0 ELSE 1 END""");

            migrationBuilder.CreateIndex(
                name: "IX_LabShutdownNotices_MailState_MailNextAttemptAt",
                table: "LabShutdownNotices",
                columns: new[] { "MailState", "MailNextAttemptAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_LabShutdownNotices_MailState_MailNextAttemptAt",
                table: "LabShutdownNotices");

            migrationBuilder.DropColumn(
                name: "PricesJson",
                table: "Labs");

            migrationBuilder.DropColumn(
                name: "MailAttempts",
                table: "LabShutdownNotices");

            migrationBuilder.DropColumn(
                name: "MailLastError",
                table: "LabShutdownNotices");

            migrationBuilder.DropColumn(
                name: "MailNextAttemptAt",
                table: "LabShutdownNotices");

            migrationBuilder.DropColumn(
                name: "MailState",
                table: "LabShutdownNotices");
        }
    }
}
