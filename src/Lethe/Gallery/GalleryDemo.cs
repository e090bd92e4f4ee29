using Lethe.Demo;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Lethe.Gallery;

/// `lethe serve --demo`: the gallery author ("First Last", as in the seed) has public and unlisted items.
internal sealed class GalleryDemo : IDemoContent
{
    public async Task EnsureAsync(IServiceProvider services, CancellationToken ct)
    {
        var db = services.GetRequiredService<LetheDb>();
        var writes = services.GetRequiredService<GalleryWrites>();
        var author = await writes.AuthorForAsync(DemoAccounts.GalleryAuthor.ObjectId, ct);
        if (author is null || await db.GalleryEntities.AnyAsync(e => e.AuthorId == author.Id, ct))
        {
            return;
        }
        PublishRequest[] items =
        [
            new(EntityKind.Solution, "Predictive maintenance for wind turbines", "Forecasts gearbox failures from SCADA telemetry, with a retraining pipeline.", ["iot", "forecasting", "energy"], Visibility.Public),
            new(EntityKind.Experiment, "Customer churn with boosted trees", "A two-class boosted decision tree on a telecom churn data set.", ["classification", "churn"], Visibility.Public),
            new(EntityKind.Tutorial, "Text classification in ten steps", "From raw reviews to a deployed sentiment web service.", ["nlp", "tutorial"], Visibility.Public),
            new(EntityKind.Notebook, "Feature engineering scratchpad", "Work in progress: shared with reviewers only.", ["draft"], Visibility.Unlisted),
            new(EntityKind.CustomModule, "Robust scaler module", "An R module that scales features by median and IQR.", ["r", "preprocessing"], Visibility.Unlisted),
        ];
        foreach (var item in items)
        {
            await writes.PublishAsync(DemoAccounts.GalleryAuthor.ObjectId, item, ct);
        }
    }
}
