namespace Lethe.Gallery;

public sealed class GalleryOptions
{
    public const string Section = "Lethe:Gallery";

    /// How long a Catalog API access token is valid (seed 000: "an invalid or expired Access Token").
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(8);

    /// The deployment's tenant and community, as the seed's profile names them.
    public string TenantId { get; set; } = "14b2744cf8d6418c87ffddc3f3127242";
    public string CommunityId { get; set; } = "9502630827244d60a1214f250e3bbca7";

    /// The address the profile's `_links.self` starts with; empty means the address of the request.
    public string? CatalogBaseUrl { get; set; }

    /// Several nodes on one database (PostgreSQL): how long after its commit a catalog change is acknowledged to its
    /// writer. Each node answers from its copy while it holds a version read started less than half of this ago, and
    /// reads every tenth of it while it has traffic (decision 0020). Longer: slower writes, fewer background reads.
    /// Between 10 ms and 10 s; 100 ms by default.
    public TimeSpan CommitWait { get; set; } = TimeSpan.FromMilliseconds(100);
}
