using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Lethe.Storage.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class LiveLabResourceNamesUnique : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_LabVirtualMachines_LiveName",
                table: "LabVirtualMachines",
                columns: new[] { "LabId", "NameKey" },
                unique: true,
                filter: "\"DeletedAt\" IS NULL");

            migrationBuilder.CreateIndex(
                name: "IX_LabDisks_LiveName",
                table: "LabDisks",
                columns: new[] { "LabId", "NameKey" },
                unique: true,
                filter: "\"DeletedAt\" IS NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_LabVirtualMachines_LiveName",
                table: "LabVirtualMachines");

            migrationBuilder.DropIndex(
                name: "IX_LabDisks_LiveName",
                table: "LabDisks");
        }
    }
}
