using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Lethe.Storage.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class VmShutdownTimeIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_LabVirtualMachines_ShutdownTime_LabId",
                table: "LabVirtualMachines",
                columns: new[] { "ShutdownTime", "LabId" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_LabVirtualMachines_ShutdownTime_LabId",
                table: "LabVirtualMachines");
        }
    }
}
