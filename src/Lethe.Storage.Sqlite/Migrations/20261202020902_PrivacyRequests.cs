using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Lethe.Storage.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class PrivacyRequests : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "PrivacyRequests",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Type = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Status = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    DryRun = table.Column<bool>(type: "INTEGER", nullable: false),
                    AnonymizeNow = table.Column<bool>(type: "INTEGER", nullable: false),
                    SubjectHash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    SubjectObjectId = table.Column<Guid>(type: "TEXT", nullable: true),
                    SubjectEmail = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    SubjectAuthorId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    FiledBy = table.Column<Guid>(type: "TEXT", nullable: true),
                    Verification = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true),
                    ReceivedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    DueAt = table.Column<long>(type: "INTEGER", nullable: false),
                    StartedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    CompletedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    Approval = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    ApprovalBy = table.Column<Guid>(type: "TEXT", nullable: true),
                    ApprovalAt = table.Column<long>(type: "INTEGER", nullable: true),
                    ApprovalReason = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true),
                    Steps = table.Column<string>(type: "TEXT", nullable: false),
                    Preview = table.Column<string>(type: "TEXT", nullable: true),
                    Retained = table.Column<string>(type: "TEXT", nullable: true),
                    FailureStep = table.Column<string>(type: "TEXT", maxLength: 512, nullable: true),
                    FailureMessage = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true),
                    JobId = table.Column<Guid>(type: "TEXT", nullable: true),
                    Work = table.Column<string>(type: "TEXT", nullable: true),
                    BundleName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    BundleBytes = table.Column<long>(type: "INTEGER", nullable: true),
                    BundleSha256 = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    BundleExpiresAt = table.Column<long>(type: "INTEGER", nullable: true),
                    Version = table.Column<Guid>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_PrivacyRequests", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_PrivacyRequests_ApprovalBy",
                table: "PrivacyRequests",
                column: "ApprovalBy");

            migrationBuilder.CreateIndex(
                name: "IX_PrivacyRequests_BundleExpiresAt",
                table: "PrivacyRequests",
                column: "BundleExpiresAt");

            migrationBuilder.CreateIndex(
                name: "IX_PrivacyRequests_FiledBy",
                table: "PrivacyRequests",
                column: "FiledBy");

            migrationBuilder.CreateIndex(
                name: "IX_PrivacyRequests_Status_DueAt",
                table: "PrivacyRequests",
                columns: new[] { "Status", "DueAt" });

            migrationBuilder.CreateIndex(
                name: "IX_PrivacyRequests_SubjectAuthorId",
                table: "PrivacyRequests",
                column: "SubjectAuthorId");

            migrationBuilder.CreateIndex(
                name: "IX_PrivacyRequests_SubjectEmail",
                table: "PrivacyRequests",
                column: "SubjectEmail");

            migrationBuilder.CreateIndex(
                name: "IX_PrivacyRequests_SubjectHash",
                table: "PrivacyRequests",
                column: "SubjectHash");

            migrationBuilder.CreateIndex(
                name: "IX_PrivacyRequests_SubjectObjectId",
                table: "PrivacyRequests",
                column: "SubjectObjectId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "PrivacyRequests");
        }
    }
}
