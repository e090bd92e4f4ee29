using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Lethe.Storage.Sqlite.Migrations
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
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<int>(
                name: "Failures",
                table: "Jobs",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "LostLeases",
                table: "Jobs",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.CreateTable(
                name: "DataProtectionKeys",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    FriendlyName = table.Column<string>(type: "TEXT", nullable: true),
                    Xml = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DataProtectionKeys", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "SetAsideRecords",
                columns: table => new
                {
                    Kind = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    RecordKey = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    Failures = table.Column<int>(type: "INTEGER", nullable: false),
                    SetAside = table.Column<bool>(type: "INTEGER", nullable: false),
                    LastError = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: false),
                    FirstFailedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    LastFailedAt = table.Column<long>(type: "INTEGER", nullable: false)
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
