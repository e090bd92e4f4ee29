using Lethe.Client;
using Lethe.Demo;
using Lethe.Resources;
using Lethe.Server.Api;
using Lethe.Server.Tests.Hosting;
using Lethe.Testing;

namespace Lethe.Server.Tests.Access;

public sealed class RoleAssignmentTests(Servers servers) : IClassFixture<Servers>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task An_owner_grants_reader_by_email_sent_in_the_body_only(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var (id, _) = await host.NewSubscriptionAsync(Ct);
        var user = await host.NewUserAsync(Ct);
        var recorder = new RecordingHandler();
        var op = new LetheClient(host.Factory.CreateDefaultClient(recorder)) { AccessToken = (await host.SignInAsync(DemoAccounts.Operator, Ct)).AccessToken };
        var assignmentId = Guid.NewGuid();
        var scope = Scenario.Scope(id);

        var created = await op.CreateRoleAssignmentAsync(new CreateRoleAssignmentRequest(scope, "Reader", PrincipalEmail: user.Email), assignmentId, Ct);

        Assert.Equal($"{scope}{AccessEndpoints.Path}/{assignmentId:D}", created.Id);
        Assert.Equal(assignmentId.ToString(), created.Name);
        Assert.Equal(AccessEndpoints.Type, created.Type);
        Assert.Equal(scope, created.Properties.Scope);
        Assert.Equal(user.ObjectId, created.Properties.PrincipalId);
        Assert.Equal("Reader", created.Properties.RoleDefinitionName);
        var (uri, body) = Assert.Single(recorder.Requests);
        Assert.DoesNotContain(user.Email, Uri.UnescapeDataString(uri.ToString()), StringComparison.OrdinalIgnoreCase);
        Assert.Contains(user.Email, body, StringComparison.Ordinal);
        // The assignee sees the subscription now.
        Assert.Contains(await user.Client.ListSubscriptionsAsync(Ct).ToListAsync(Ct), s => s.SubscriptionId == id);
        Assert.Equal(id, (await user.Client.GetSubscriptionAsync(id, Ct)).SubscriptionId);
        Assert.Contains(new MyRole(scope, "Reader"), (await user.Client.GetMeAsync(Ct)).Roles);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task An_owner_grants_a_role_by_principal_id_and_lists_it_with_the_inherited_ones(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var (id, op) = await host.NewSubscriptionAsync(Ct);
        await op.CreateOrUpdateResourceGroupAsync(id, "rg-a", "westeurope", Ct);
        var user = await host.NewUserAsync(Ct);
        var group = Scenario.Scope(id, "rg-a");

        var created = await op.CreateRoleAssignmentAsync(new CreateRoleAssignmentRequest(group, "contributor", PrincipalId: user.ObjectId), ct: Ct);

        Assert.Equal("Contributor", created.Properties.RoleDefinitionName);
        Assert.Equal(user.ObjectId, created.Properties.PrincipalId);
        var atGroup = await op.ListRoleAssignmentsAsync(group, Ct);
        Assert.Contains(atGroup, a => a.Name == created.Name);
        Assert.Contains(atGroup, a => a.Properties.Scope == "/" && a.Properties.PrincipalId == DemoAccounts.Operator.ObjectId && a.Properties.RoleDefinitionName == "Owner");
        Assert.DoesNotContain(await op.ListRoleAssignmentsAsync(Scenario.Scope(id), Ct), a => a.Name == created.Name);
        // The contributor may read the assignments where it has a role.
        Assert.Contains(await user.Client.ListRoleAssignmentsAsync(group, Ct), a => a.Name == created.Name);
        Assert.Equal("rg-a", (await user.Client.GetResourceGroupAsync(id, "rg-a", Ct)).Name);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Granting_the_same_role_twice_or_reusing_an_assignment_id_conflicts(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var (id, op) = await host.NewSubscriptionAsync(Ct);
        var user = await host.NewUserAsync(Ct);
        var scope = Scenario.Scope(id);
        var first = Guid.NewGuid();
        await op.CreateRoleAssignmentAsync(new CreateRoleAssignmentRequest(scope, "Reader", PrincipalId: user.ObjectId), first, Ct);

        var sameRole = await Assert.ThrowsAsync<LetheConflictException>(() => op.CreateRoleAssignmentAsync(new CreateRoleAssignmentRequest(scope, "Reader", PrincipalEmail: user.Email), ct: Ct));
        var sameId = await Assert.ThrowsAsync<LetheConflictException>(() => op.CreateRoleAssignmentAsync(new CreateRoleAssignmentRequest(scope, "Contributor", PrincipalId: user.ObjectId), first, Ct));

        Assert.Contains("already", sameRole.Detail, StringComparison.Ordinal);
        Assert.Contains("exists", sameId.Detail, StringComparison.Ordinal);
        Assert.Single(await op.ListRoleAssignmentsAsync(scope, Ct), a => a.Properties.PrincipalId == user.ObjectId);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task An_unknown_email_is_rejected_without_echoing_it(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var (id, op) = await host.NewSubscriptionAsync(Ct);
        var email = $"Nobody.Known-{Guid.NewGuid():N}@example.test";
        using var http = host.Raw(op.AccessToken);

        var error = await Assert.ThrowsAsync<LetheValidationException>(() => op.CreateRoleAssignmentAsync(new CreateRoleAssignmentRequest(Scenario.Scope(id), "Reader", PrincipalEmail: email), ct: Ct));
        using var raw = await http.PutAsync(
            new Uri($"{AccessEndpoints.Path.TrimStart('/')}/{Guid.NewGuid():D}", UriKind.Relative),
            System.Net.Http.Json.JsonContent.Create(new CreateRoleAssignmentRequest(Scenario.Scope(id), "Reader", PrincipalEmail: email), options: LetheClient.Json),
            Ct);
        var body = await raw.Content.ReadAsStringAsync(Ct);

        Assert.Contains("principalEmail", error.Errors.Keys);
        Assert.DoesNotContain(email, error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(email.Split('@')[0], body, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, raw.StatusCode);
        Assert.DoesNotContain(await op.ListRoleAssignmentsAsync(Scenario.Scope(id), Ct), a => a.Properties.Scope == Scenario.Scope(id));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task An_unknown_principal_id_is_rejected(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var (id, op) = await host.NewSubscriptionAsync(Ct);

        var error = await Assert.ThrowsAsync<LetheValidationException>(() => op.CreateRoleAssignmentAsync(new CreateRoleAssignmentRequest(Scenario.Scope(id), "Reader", PrincipalId: Guid.NewGuid()), ct: Ct));

        Assert.Equal("principalId", Assert.Single(error.Errors).Key);
    }

    public static TheoryData<DatabaseProvider, string> MalformedScopes
    {
        get
        {
            var data = new TheoryData<DatabaseProvider, string>();
            foreach (var provider in new[] { DatabaseProvider.Sqlite, DatabaseProvider.Postgres })
            {
                data.Add(provider, "");
                data.Add(provider, "subscriptions/5c9d3b7e-1f2a-4c6d-9e8b-0a1b2c3d4e5f");
                data.Add(provider, "/subscriptions/not-a-guid");
                data.Add(provider, "/subscriptions/5c9d3b7e-1f2a-4c6d-9e8b-0a1b2c3d4e5f/resourceGroups/../x");
                data.Add(provider, "/subscriptions/5c9d3b7e-1f2a-4c6d-9e8b-0a1b2c3d4e5f/things/x");
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(MalformedScopes))]
    public async Task A_malformed_scope_is_rejected_with_what_the_parser_found(DatabaseProvider provider, string scope)
    {
        var host = await servers.GetAsync(provider);
        var op = await host.SignInAsync(DemoAccounts.Operator, Ct);
        var user = await host.NewUserAsync(Ct);
        Assert.False(ResourceId.TryParse(scope, out _, out var expected));

        var put = await Assert.ThrowsAsync<LetheValidationException>(() => op.CreateRoleAssignmentAsync(new CreateRoleAssignmentRequest(scope, "Reader", PrincipalId: user.ObjectId), ct: Ct));
        var list = await Assert.ThrowsAsync<LetheValidationException>(() => op.ListRoleAssignmentsAsync(scope, Ct));

        Assert.Equal([expected], Assert.Contains("scope", put.Errors));
        Assert.Equal([expected], Assert.Contains("scope", list.Errors));
        Assert.Empty((await user.Client.GetMeAsync(Ct)).Roles);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_request_must_name_one_principal_and_a_known_role(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var (id, op) = await host.NewSubscriptionAsync(Ct);
        var user = await host.NewUserAsync(Ct);
        var scope = Scenario.Scope(id);

        var neither = await Assert.ThrowsAsync<LetheValidationException>(() => op.CreateRoleAssignmentAsync(new CreateRoleAssignmentRequest(scope, "Reader"), ct: Ct));
        var both = await Assert.ThrowsAsync<LetheValidationException>(() => op.CreateRoleAssignmentAsync(new CreateRoleAssignmentRequest(scope, "Reader", user.ObjectId, user.Email), ct: Ct));
        foreach (var role in new[] { "Admin", "1", "", " Reader", "Owner,Reader", "Reader,Contributor" })
        {
            var bad = await Assert.ThrowsAsync<LetheValidationException>(() => op.CreateRoleAssignmentAsync(new CreateRoleAssignmentRequest(scope, role, PrincipalId: user.ObjectId), ct: Ct));
            Assert.Equal("roleDefinitionName", Assert.Single(bad.Errors).Key);
        }
        // Enum parsing reads "Reader,Contributor" as the bitwise OR of the two: LabUser, a role nobody named.
        var badId = await Assert.ThrowsAsync<LetheValidationException>(() => op.SendAsync(HttpMethod.Put, $"{AccessEndpoints.Path.TrimStart('/')}/not-a-guid", new CreateRoleAssignmentRequest(scope, "Reader", PrincipalId: user.ObjectId), Ct));

        Assert.Equal("principalId", Assert.Single(neither.Errors).Key);
        Assert.Equal("principalId", Assert.Single(both.Errors).Key);
        Assert.Equal("roleAssignmentId", Assert.Single(badId.Errors).Key);
        Assert.Empty((await user.Client.GetMeAsync(Ct)).Roles);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_contributor_or_reader_cannot_grant_roles(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var (id, op) = await host.NewSubscriptionAsync(Ct);
        var scope = Scenario.Scope(id);
        var contributor = await host.NewUserWithRoleAsync(op, scope, "Contributor", Ct);
        var reader = await host.NewUserWithRoleAsync(op, scope, "Reader", Ct);
        var target = await host.NewUserAsync(Ct);

        var error = await Assert.ThrowsAsync<LetheForbiddenException>(() => contributor.Client.CreateRoleAssignmentAsync(new CreateRoleAssignmentRequest(scope, "Reader", PrincipalId: target.ObjectId), ct: Ct));
        await Assert.ThrowsAsync<LetheForbiddenException>(() => contributor.Client.CreateRoleAssignmentAsync(new CreateRoleAssignmentRequest(scope, "Owner", PrincipalId: contributor.ObjectId), ct: Ct));
        await Assert.ThrowsAsync<LetheForbiddenException>(() => reader.Client.CreateRoleAssignmentAsync(new CreateRoleAssignmentRequest(scope, "Reader", PrincipalEmail: target.Email), ct: Ct));
        // A user with no role in the subscription learns nothing about it.
        await Assert.ThrowsAsync<LetheNotFoundException>(() => target.Client.CreateRoleAssignmentAsync(new CreateRoleAssignmentRequest(scope, "Owner", PrincipalId: target.ObjectId), ct: Ct));
        await Assert.ThrowsAsync<LetheNotFoundException>(() => target.Client.ListRoleAssignmentsAsync(scope, Ct));

        Assert.Contains(nameof(Right.ManageAccess), error.Detail, StringComparison.Ordinal);
        Assert.Empty((await target.Client.GetMeAsync(Ct)).Roles);
        Assert.Equal([new MyRole(scope, "Contributor")], (await contributor.Client.GetMeAsync(Ct)).Roles);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Deleting_an_assignment_takes_the_access_away(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var (id, op) = await host.NewSubscriptionAsync(Ct);
        var scope = Scenario.Scope(id);
        var user = await host.NewUserAsync(Ct);
        var assignment = await op.CreateRoleAssignmentAsync(new CreateRoleAssignmentRequest(scope, "Reader", PrincipalId: user.ObjectId), ct: Ct);
        Assert.Equal(id, (await user.Client.GetSubscriptionAsync(id, Ct)).SubscriptionId);

        // The reader may not revoke its own role; the owner may.
        await Assert.ThrowsAsync<LetheForbiddenException>(() => user.Client.DeleteRoleAssignmentAsync(Guid.Parse(assignment.Name), Ct));
        await op.DeleteRoleAssignmentAsync(Guid.Parse(assignment.Name), Ct);

        Assert.DoesNotContain(await op.ListRoleAssignmentsAsync(scope, Ct), a => a.Name == assignment.Name);
        await Assert.ThrowsAsync<LetheNotFoundException>(() => user.Client.GetSubscriptionAsync(id, Ct));
        await Assert.ThrowsAsync<LetheNotFoundException>(() => op.DeleteRoleAssignmentAsync(Guid.Parse(assignment.Name), Ct));
        await Assert.ThrowsAsync<LetheNotFoundException>(() => user.Client.DeleteRoleAssignmentAsync(Guid.Parse(assignment.Name), Ct));
    }

    private sealed class RecordingHandler : DelegatingHandler
    {
        public List<(Uri Uri, string Body)> Requests { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken);
            Requests.Add((request.RequestUri!, body));
            return await base.SendAsync(request, cancellationToken);
        }
    }
}
