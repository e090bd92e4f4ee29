using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Lethe.Storage.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class JobsIntegrity : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_Workspaces_ResourceGroups_SubscriptionId_ResourceGroupKey",
                table: "Workspaces");

            migrationBuilder.AddColumn<bool>(
                name: "Exclusive",
                table: "Jobs",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<int>(
                name: "Failures",
                table: "Jobs",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "LostLeases",
                table: "Jobs",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.CreateTable(
                name: "DataProtectionKeys",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    FriendlyName = table.Column<string>(type: "text", nullable: true),
                    Xml = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DataProtectionKeys", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "SetAsideRecords",
                columns: table => new
                {
                    Kind = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    RecordKey = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    Failures = table.Column<int>(type: "integer", nullable: false),
                    SetAside = table.Column<bool>(type: "boolean", nullable: false),
                    LastError = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: false),
                    FirstFailedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    LastFailedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_SetAsideRecords", x => new { x.Kind, x.RecordKey });
                });

            migrationBuilder.CreateIndex(
                name: "IX_Jobs_LiveExclusive",
                table: "Jobs",
                columns: new[] { "Kind", "ResourceId" },
                unique: true,
                filter: "\"Exclusive\" AND \"State\" IN ('Pending', 'Running')");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "DataProtectionKeys");

            migrationBuilder.DropTable(
                name: "SetAsideRecords");

            migrationBuilder.DropIndex(
                name: "IX_Jobs_LiveExclusive",
                table: "Jobs");

            migrationBuilder.DropColumn(
                name: "Exclusive",
                table: "Jobs");

            migrationBuilder.DropColumn(
                name: "Failures",
                table: "Jobs");

            migrationBuilder.DropColumn(
                name: "LostLeases",
                table: "Jobs");

            migrationBuilder.AddForeignKey(
                name: "FK_Workspaces_ResourceGroups_SubscriptionId_ResourceGroupKey",
                table: "Workspaces",
                columns: new[] { "SubscriptionId", "ResourceGroupKey" },
                principalTable: "ResourceGroups",
                principalColumns: new[] { "SubscriptionId", "NameKey" },
                onDelete: ReferentialAction.Restrict);
        }
    }
}
