using Microsoft.EntityFrameworkCore;

namespace Lethe.Tests.Storage;

/// The server does not let EF compare the migrations with the model at every start (decision 0090); this does, for
/// both providers: a model change without its migration (`scripts/new-migration Name`) fails here, not in production.
public sealed class MigrationSnapshotTests
{
    [Theory]
    [MemberData(nameof(ModelOnlyDb.Providers), MemberType = typeof(ModelOnlyDb))]
    public void Each_providers_migrations_end_at_the_current_model(DatabaseProvider provider)
    {
        using var db = ModelOnlyDb.For(provider);

        Assert.True(!db.Database.HasPendingModelChanges(),
            $"The {provider} migrations do not match the model: run scripts/new-migration with a name for the change.");
    }
}
