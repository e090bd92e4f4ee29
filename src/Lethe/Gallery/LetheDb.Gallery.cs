using Lethe.Gallery;
using Microsoft.EntityFrameworkCore;

namespace Lethe;

public sealed partial class LetheDb
{
    public DbSet<GalleryAuthor> GalleryAuthors => Set<GalleryAuthor>();
    public DbSet<GalleryEntity> GalleryEntities => Set<GalleryEntity>();
    public DbSet<CatalogToken> CatalogTokens => Set<CatalogToken>();
    public DbSet<GalleryCatalogVersion> GalleryCatalogVersions => Set<GalleryCatalogVersion>();
}
