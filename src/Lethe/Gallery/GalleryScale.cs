using Lethe.Demo;
using Lethe.Identity;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Gallery;

/// The gallery of `lethe seed --scale`: one user in <see cref="OneAuthorIn"/> has published, with an author profile
/// keyed by the author ID of their email under this deployment's secret (so the data is the same for a seed and a
/// deployment), one to nine items (one in five unlisted), and one author in five has a Catalog API token (expired
/// by now; some revoked). Each batch takes the next catalog version, as <see cref="GalleryWrites"/> does for each
/// change, and marks its rows with it: a server started afterwards loads them, and the running nodes of a
/// PostgreSQL deployment catch up on them, as on any other change.
public static class GalleryScale
{
    public const int OneAuthorIn = 10;

    private static readonly string[] Topics = ["Churn prediction", "Demand forecasting", "Credit risk scoring", "Image tagging", "Sentiment analysis", "Anomaly detection", "Text summarization", "Predictive maintenance", "Movie recommendations", "Fraud detection"];
    private static readonly string[] Methods = ["with boosted trees", "with logistic regression", "with a neural network", "in ten steps", "with R", "with Python", "end to end", "on streaming data"];
    private static readonly string[] Tags = ["classification", "regression", "forecasting", "nlp", "vision", "tutorial", "python", "r", "iot", "finance", "retail", "energy"];

    public static async Task<ScalePart> PartAsync(ScaleTarget target, ScaleOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(options);
        var secret = await DeploymentSecret.GetOrCreateAsync(target.Db, DeploymentSecret.AuthorIdKey, TimeProvider.System, ct);
        var settings = new GalleryOptions();
        var pending = new List<object>();
        return new ScalePart("gallery",
            PerUser: (user, random) =>
            {
                var rows = RowsOf(user, random, secret, settings, options.Epoch);
                pending.AddRange(rows);
                return rows;
            },
            BeforeWrite: async (db, token) =>
            {
                if (pending.Count == 0)
                {
                    return;
                }
                var version = await NextVersionAsync(db, token);
                foreach (var row in pending)
                {
                    switch (row)
                    {
                        case GalleryAuthor a: a.ChangeVersion = version; break;
                        case GalleryEntity e: e.ChangeVersion = version; break;
                        case CatalogToken t: t.ChangeVersion = version; break;
                    }
                }
                pending.Clear();
            });
    }

    private static List<object> RowsOf(ScaleUser user, Random random, byte[] secret, GalleryOptions settings, DateTimeOffset epoch)
    {
        if (random.Next(OneAuthorIn) != 0)
        {
            return [];
        }
        var authorId = AuthorId.For(user.Email, secret);
        var joined = ScaleData.Between(user.CreatedAt, epoch, random);
        var entities = new List<GalleryEntity>();
        var count = 1 + random.Next(9);
        var at = joined;
        for (var n = 0; n < count; n++)
        {
            at = ScaleData.Between(at, epoch, random);
            var kind = (EntityKind)random.Next(Enum.GetValues<EntityKind>().Length);
            var topic = Topics[random.Next(Topics.Length)];
            var tags = Enumerable.Range(0, random.Next(5)).Select(_ => Tags[random.Next(Tags.Length)]);
            entities.Add(new GalleryEntity
            {
                Id = ScaleData.NewGuid(random),
                AuthorId = authorId,
                Kind = kind,
                Name = $"{topic} {Methods[random.Next(Methods.Length)]}",
                Description = $"{topic}: a {kind.ToString().ToLowerInvariant()} from the scale data set, item {n + 1} of {count}.",
                Tags = GalleryRules.NormalizeTags(tags),
                Visibility = random.Next(5) == 0 ? Visibility.Unlisted : Visibility.Public,
                CreatedAt = at,
                UpdatedAt = at,
            });
        }
        var last = entities[^1].CreatedAt;
        var author = new GalleryAuthor
        {
            Id = authorId,
            UserId = user.ObjectId,
            Email = user.Email.Trim().ToLowerInvariant(),
            Name = user.DisplayName,
            Slug = GalleryRules.Slug(user.DisplayName),
            TenantId = settings.TenantId,
            CommunityId = settings.CommunityId,
            CreatedAt = joined,
            UpdatedAt = last,
            ContributedAt = last,
            ScoredAt = last,
            ContributionScore = ContributionScore.Of(entities.Select(e => (e.Kind, e.Visibility, e.Tags.Count, e.Description.Length))),
            EntitiesCount = entities.Count(e => e.Visibility == Visibility.Public),
            ETag = ScaleData.NewGuid(random),
        };
        var rows = new List<object>(count + 2) { author };
        rows.AddRange(entities);
        if (random.Next(5) == 0)
        {
            Span<byte> bytes = stackalloc byte[32];
            random.NextBytes(bytes);
            var token = CatalogTokens.Prefix + Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            var issued = ScaleData.Between(joined, epoch, random);
            rows.Add(new CatalogToken
            {
                Id = ScaleData.NewGuid(random),
                AuthorId = authorId,
                Hash = CatalogTokens.HashOf(token),
                CreatedAt = issued,
                ExpiresAt = issued + settings.TokenLifetime,
                RevokedAt = random.Next(4) == 0 ? issued.AddHours(1) : null,
            });
        }
        return rows;
    }

    /// As <see cref="GalleryWrites"/> takes it: inside the batch's transaction, which holds the counter's row until it commits.
    private static async Task<long> NextVersionAsync(LetheDb db, CancellationToken ct)
        => (await db.Database.SqlQueryRaw<long>(
                "UPDATE \"GalleryCatalogVersions\" SET \"Value\" = \"Value\" + 1 WHERE \"Id\" = 1 RETURNING \"Value\"")
            .ToListAsync(ct)).Single();
}
