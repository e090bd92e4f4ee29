using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Lethe.Storage.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class Workspaces : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "TelemetryEvents",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    UserId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Action = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    Resource = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: false),
                    OccurredAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_TelemetryEvents", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "Workspaces",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    SubscriptionId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ResourceGroup = table.Column<string>(type: "TEXT", maxLength: 90, nullable: false),
                    ResourceGroupKey = table.Column<string>(type: "TEXT", maxLength: 90, nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 33, nullable: false),
                    NameKey = table.Column<string>(type: "TEXT", maxLength: 33, nullable: false),
                    Location = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Sku = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    SoftDeleteRetentionDays = table.Column<int>(type: "INTEGER", nullable: false),
                    PurgeProtection = table.Column<bool>(type: "INTEGER", nullable: false),
                    StorageAccount = table.Column<string>(type: "TEXT", maxLength: 24, nullable: false),
                    ContainerRegistry = table.Column<string>(type: "TEXT", maxLength: 50, nullable: false),
                    ApplicationInsights = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    KeyVault = table.Column<string>(type: "TEXT", maxLength: 24, nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    DeletedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    PurgeAfter = table.Column<long>(type: "INTEGER", nullable: true),
                    Purging = table.Column<bool>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Workspaces", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Workspaces_ResourceGroups_SubscriptionId_ResourceGroupKey",
                        columns: x => new { x.SubscriptionId, x.ResourceGroupKey },
                        principalTable: "ResourceGroups",
                        principalColumns: new[] { "SubscriptionId", "NameKey" },
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "ExperimentRuns",
                columns: table => new
                {
                    WorkspaceId = table.Column<Guid>(type: "TEXT", nullable: false),
                    JobIdKey = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    JobId = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    ExperimentName = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    Title = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    Status = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Parameters = table.Column<string>(type: "TEXT", maxLength: 8000, nullable: false),
                    SubmittedBy = table.Column<Guid>(type: "TEXT", nullable: false),
                    SubmittedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    ArchivedAt = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ExperimentRuns", x => new { x.WorkspaceId, x.JobIdKey });
                    table.ForeignKey(
                        name: "FK_ExperimentRuns_Workspaces_WorkspaceId",
                        column: x => x.WorkspaceId,
                        principalTable: "Workspaces",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "WorkspaceAssets",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    WorkspaceId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    NameKey = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    Version = table.Column<int>(type: "INTEGER", nullable: false),
                    Description = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: true),
                    Path = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: true),
                    Properties = table.Column<string>(type: "TEXT", maxLength: 8000, nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_WorkspaceAssets", x => x.Id);
                    table.ForeignKey(
                        name: "FK_WorkspaceAssets_Workspaces_WorkspaceId",
                        column: x => x.WorkspaceId,
                        principalTable: "Workspaces",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "WorkspaceMembers",
                columns: table => new
                {
                    WorkspaceId = table.Column<Guid>(type: "TEXT", nullable: false),
                    PrincipalId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Email = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    DisplayName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    Role = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    RoleAssignmentId = table.Column<Guid>(type: "TEXT", nullable: false),
                    AddedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_WorkspaceMembers", x => new { x.WorkspaceId, x.PrincipalId });
                    table.ForeignKey(
                        name: "FK_WorkspaceMembers_Workspaces_WorkspaceId",
                        column: x => x.WorkspaceId,
                        principalTable: "Workspaces",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_ExperimentRuns_SubmittedBy",
                table: "ExperimentRuns",
                column: "SubmittedBy");

            migrationBuilder.CreateIndex(
                name: "IX_TelemetryEvents_OccurredAt",
                table: "TelemetryEvents",
                column: "OccurredAt");

            migrationBuilder.CreateIndex(
                name: "IX_TelemetryEvents_UserId",
                table: "TelemetryEvents",
                column: "UserId");

            migrationBuilder.CreateIndex(
                name: "IX_WorkspaceAssets_WorkspaceId_Kind_NameKey_Version",
                table: "WorkspaceAssets",
                columns: new[] { "WorkspaceId", "Kind", "NameKey", "Version" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_WorkspaceMembers_PrincipalId",
                table: "WorkspaceMembers",
                column: "PrincipalId");

            migrationBuilder.CreateIndex(
                name: "IX_Workspaces_PurgeAfter",
                table: "Workspaces",
                column: "PurgeAfter");

            migrationBuilder.CreateIndex(
                name: "IX_Workspaces_StorageAccount",
                table: "Workspaces",
                column: "StorageAccount",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Workspaces_SubscriptionId_ResourceGroupKey_NameKey",
                table: "Workspaces",
                columns: new[] { "SubscriptionId", "ResourceGroupKey", "NameKey" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "ExperimentRuns");

            migrationBuilder.DropTable(
                name: "TelemetryEvents");

            migrationBuilder.DropTable(
                name: "WorkspaceAssets");

            migrationBuilder.DropTable(
                name: "WorkspaceMembers");

            migrationBuilder.DropTable(
                name: "Workspaces");
        }
    }
}
