using Lethe.Client;
using Lethe.Server.Tests.Hosting;
using Lethe.Testing;

namespace Lethe.Server.Tests.Privacy;

public sealed class PersonalDataMapApiTests(Servers servers) : IClassFixture<Servers>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task The_map_lists_the_account_and_role_assignment_tables_with_their_strategies(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var user = await host.NewUserAsync(Ct);

        var map = await user.Client.GetPersonalDataMapAsync(Ct);

        var users = Assert.Single(map.Locations, l => l.Name == "AspNetUsers");
        Assert.Equal("table", users.Kind);
        Assert.Equal("Identity", users.Module);
        Assert.Equal("Delete", users.Strategy);
        Assert.Null(users.RetentionDays);
        Assert.Contains(new PersonalFieldResponse("Id", "Identifier", "ObjectId", true), users.Fields);
        Assert.Contains(new PersonalFieldResponse("NormalizedEmail", "Contact", "Email", true), users.Fields);
        Assert.Contains(new PersonalFieldResponse("Email", "Contact", "Email", false), users.Fields);
        Assert.Contains(users.Fields, f => f is { Name: "DisplayName", IsName: true });
        // Every Identity column is declared; secrets are erased with the account and never exported.
        Assert.Contains(new PersonalFieldResponse("PasswordHash", "Identifier", "ObjectId", false, "Omit"), users.Fields);
        Assert.Contains(new PersonalFieldResponse("SecurityStamp", "Identifier", "ObjectId", false, "Omit"), users.Fields);
        Assert.Equal(users.Phase, map.Locations.Max(l => l.Phase));
        Assert.All(map.Locations.Where(l => l.Strategy == "RetainThenAnonymize"), l => Assert.Equal("labs.anonymize", l.Sweep));
        // The job history documents are declared on the run that owns them, not on the whole runs folder.
        Assert.Contains(map.Locations, l => l.Kind == "blob" && l.Name.EndsWith("/dcid.{jobId}/history.json", StringComparison.Ordinal));

        var roles = Assert.Single(map.Locations, l => l.Name == "RoleAssignments");
        Assert.Equal("Resources", roles.Module);
        Assert.Equal("Delete", roles.Strategy);
        Assert.Equal([new PersonalFieldResponse("PrincipalId", "Identifier", "ObjectId", true)], roles.Fields);

        // Every location names a strategy, and every kept one says why.
        Assert.All(map.Locations, l => Assert.Contains(l.Strategy, new[] { "Delete", "Anonymize", "RetainThenAnonymize", "Keep" }));
        Assert.All(map.Locations.Where(l => l.Strategy == "Keep"), l => Assert.False(string.IsNullOrWhiteSpace(l.Reason)));
        Assert.All(map.Locations.Where(l => l.Strategy == "RetainThenAnonymize"), l => Assert.True(l.RetentionDays > 0));
        Assert.All(map.Locations, l => Assert.NotEmpty(l.Fields));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task The_map_needs_a_signed_in_user(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);

        await Assert.ThrowsAsync<LetheUnauthorizedException>(() => host.Anonymous().GetPersonalDataMapAsync(Ct));
    }
}
