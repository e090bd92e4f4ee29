using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Lethe.Storage.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class Labs : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "Labs",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    SubscriptionId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ResourceGroup = table.Column<string>(type: "TEXT", maxLength: 90, nullable: false),
                    ResourceGroupKey = table.Column<string>(type: "TEXT", maxLength: 90, nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 90, nullable: false),
                    NameKey = table.Column<string>(type: "TEXT", maxLength: 90, nullable: false),
                    Location = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    ScopeKey = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: false),
                    NotificationEmail = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    RemovedNotificationEmail = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    NotificationEmailRemovedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    TimeZoneId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    AnonymizeAfterDays = table.Column<int>(type: "INTEGER", nullable: false),
                    ShutdownTime = table.Column<TimeOnly>(type: "TEXT", nullable: true),
                    ShutdownNoticeMinutes = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Labs", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Labs_ResourceGroups_SubscriptionId_ResourceGroupKey",
                        columns: x => new { x.SubscriptionId, x.ResourceGroupKey },
                        principalTable: "ResourceGroups",
                        principalColumns: new[] { "SubscriptionId", "NameKey" },
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "LabCosts",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    LabId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ResourceUId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ResourceName = table.Column<string>(type: "TEXT", maxLength: 90, nullable: false),
                    Date = table.Column<DateOnly>(type: "TEXT", nullable: false),
                    AmountCents = table.Column<long>(type: "INTEGER", nullable: false),
                    OwnerObjectId = table.Column<Guid>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_LabCosts", x => x.Id);
                    table.ForeignKey(
                        name: "FK_LabCosts_Labs_LabId",
                        column: x => x.LabId,
                        principalTable: "Labs",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "LabDisks",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    LabId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 90, nullable: false),
                    NameKey = table.Column<string>(type: "TEXT", maxLength: 90, nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    DeletedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    OwnerObjectId = table.Column<Guid>(type: "TEXT", nullable: true),
                    AnonymizedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    SizeGb = table.Column<int>(type: "INTEGER", nullable: false),
                    DiskType = table.Column<int>(type: "INTEGER", nullable: false),
                    BlobName = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    LeasedByVmId = table.Column<Guid>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_LabDisks", x => x.Id);
                    table.ForeignKey(
                        name: "FK_LabDisks_Labs_LabId",
                        column: x => x.LabId,
                        principalTable: "Labs",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "LabVirtualMachines",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    LabId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 90, nullable: false),
                    NameKey = table.Column<string>(type: "TEXT", maxLength: 90, nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    DeletedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    OwnerObjectId = table.Column<Guid>(type: "TEXT", nullable: true),
                    NotificationEmail = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    RemovedNotificationEmail = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    NotificationEmailRemovedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    AnonymizedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    PricingTier = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Claimable = table.Column<bool>(type: "INTEGER", nullable: false),
                    EnvironmentId = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: true),
                    ExpirationDate = table.Column<long>(type: "INTEGER", nullable: true),
                    ImagePublisher = table.Column<string>(type: "TEXT", maxLength: 128, nullable: true),
                    ImageOffer = table.Column<string>(type: "TEXT", maxLength: 128, nullable: true),
                    ImageSku = table.Column<string>(type: "TEXT", maxLength: 128, nullable: true),
                    ImageOsType = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true),
                    ImageVersion = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    CustomImageId = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: true),
                    ShutdownTime = table.Column<TimeOnly>(type: "TEXT", nullable: true),
                    Running = table.Column<bool>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_LabVirtualMachines", x => x.Id);
                    table.ForeignKey(
                        name: "FK_LabVirtualMachines_Labs_LabId",
                        column: x => x.LabId,
                        principalTable: "Labs",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "LabShutdownNotices",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    VmId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ScheduledFor = table.Column<long>(type: "INTEGER", nullable: false),
                    ShutdownAt = table.Column<long>(type: "INTEGER", nullable: false),
                    State = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    TokenHash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    EmailSentAt = table.Column<long>(type: "INTEGER", nullable: true),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_LabShutdownNotices", x => x.Id);
                    table.ForeignKey(
                        name: "FK_LabShutdownNotices_LabVirtualMachines_VmId",
                        column: x => x.VmId,
                        principalTable: "LabVirtualMachines",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_LabCosts_LabId_Date",
                table: "LabCosts",
                columns: new[] { "LabId", "Date" });

            migrationBuilder.CreateIndex(
                name: "IX_LabCosts_OwnerObjectId",
                table: "LabCosts",
                column: "OwnerObjectId");

            migrationBuilder.CreateIndex(
                name: "IX_LabCosts_ResourceUId_Date",
                table: "LabCosts",
                columns: new[] { "ResourceUId", "Date" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_LabDisks_LabId_NameKey",
                table: "LabDisks",
                columns: new[] { "LabId", "NameKey" });

            migrationBuilder.CreateIndex(
                name: "IX_LabDisks_OwnerObjectId",
                table: "LabDisks",
                column: "OwnerObjectId");

            migrationBuilder.CreateIndex(
                name: "IX_LabShutdownNotices_State_ShutdownAt",
                table: "LabShutdownNotices",
                columns: new[] { "State", "ShutdownAt" });

            migrationBuilder.CreateIndex(
                name: "IX_LabShutdownNotices_TokenHash",
                table: "LabShutdownNotices",
                column: "TokenHash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_LabShutdownNotices_VmId_ScheduledFor",
                table: "LabShutdownNotices",
                columns: new[] { "VmId", "ScheduledFor" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_LabVirtualMachines_LabId_NameKey",
                table: "LabVirtualMachines",
                columns: new[] { "LabId", "NameKey" });

            migrationBuilder.CreateIndex(
                name: "IX_LabVirtualMachines_OwnerObjectId",
                table: "LabVirtualMachines",
                column: "OwnerObjectId");

            migrationBuilder.CreateIndex(
                name: "IX_Labs_SubscriptionId_ResourceGroupKey_NameKey",
                table: "Labs",
                columns: new[] { "SubscriptionId", "ResourceGroupKey", "NameKey" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "LabCosts");

            migrationBuilder.DropTable(
                name: "LabDisks");

            migrationBuilder.DropTable(
                name: "LabShutdownNotices");

            migrationBuilder.DropTable(
                name: "LabVirtualMachines");

            migrationBuilder.DropTable(
                name: "Labs");
        }
    }
}
