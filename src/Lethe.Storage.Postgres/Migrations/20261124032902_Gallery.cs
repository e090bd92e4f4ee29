using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Lethe.Storage.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class Gallery : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "GalleryAuthors",
                columns: table => new
                {
                    Id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    UserId = table.Column<Guid>(type: "uuid", nullable: false),
                    Email = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    Name = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    Slug = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    TenantId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    CommunityId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    ContributedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    ScoredAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    ContributionScore = table.Column<double>(type: "double precision", nullable: false),
                    EntitiesCount = table.Column<int>(type: "integer", nullable: false),
                    ETag = table.Column<Guid>(type: "uuid", nullable: false),
                    ChangeVersion = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_GalleryAuthors", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "GalleryCatalogVersions",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false),
                    Value = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_GalleryCatalogVersions", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "CatalogTokens",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    AuthorId = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Hash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    ExpiresAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    RevokedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    ChangeVersion = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_CatalogTokens", x => x.Id);
                    table.ForeignKey(
                        name: "FK_CatalogTokens_GalleryAuthors_AuthorId",
                        column: x => x.AuthorId,
                        principalTable: "GalleryAuthors",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "GalleryEntities",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    AuthorId = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Kind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Description = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: false),
                    Tags = table.Column<List<string>>(type: "text[]", nullable: false),
                    Visibility = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UnpublishedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    ChangeVersion = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_GalleryEntities", x => x.Id);
                    table.ForeignKey(
                        name: "FK_GalleryEntities_GalleryAuthors_AuthorId",
                        column: x => x.AuthorId,
                        principalTable: "GalleryAuthors",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.InsertData(
                table: "GalleryCatalogVersions",
                columns: new[] { "Id", "Value" },
                values: new object[] { 1, 0L });

            migrationBuilder.CreateIndex(
                name: "IX_CatalogTokens_AuthorId",
                table: "CatalogTokens",
                column: "AuthorId");

            migrationBuilder.CreateIndex(
                name: "IX_CatalogTokens_ChangeVersion",
                table: "CatalogTokens",
                column: "ChangeVersion");

            migrationBuilder.CreateIndex(
                name: "IX_CatalogTokens_Hash",
                table: "CatalogTokens",
                column: "Hash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_GalleryAuthors_ChangeVersion",
                table: "GalleryAuthors",
                column: "ChangeVersion");

            migrationBuilder.CreateIndex(
                name: "IX_GalleryAuthors_UserId",
                table: "GalleryAuthors",
                column: "UserId",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_GalleryEntities_AuthorId_CreatedAt",
                table: "GalleryEntities",
                columns: new[] { "AuthorId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_GalleryEntities_ChangeVersion",
                table: "GalleryEntities",
                column: "ChangeVersion");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "CatalogTokens");

            migrationBuilder.DropTable(
                name: "GalleryCatalogVersions");

            migrationBuilder.DropTable(
                name: "GalleryEntities");

            migrationBuilder.DropTable(
                name: "GalleryAuthors");
        }
    }
}
