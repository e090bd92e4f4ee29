using Lethe.Client;
using Lethe.Demo;

namespace Lethe.Cli.Tests;

public sealed class ResourceTests(TestServer server) : IClassFixture<TestServer>
{
    [Fact]
    public async Task The_operator_creates_a_subscription_and_a_group_and_lists_them_as_json()
    {
        using var user = new CliUser(server.Url);
        await user.LoginAsync(DemoAccounts.Operator.Email);
        var id = Guid.NewGuid();

        var created = await user.RunAsync("subscription", "create", "--id", id.ToString(), "--name", "Benchmarks", "-o", "json");
        var group = await user.RunAsync("group", "create", "--subscription", id.ToString(), "--name", "bench-rg", "--location", "westeurope");
        var subscriptions = (await user.RunAsync("subscription", "list", "-o", "json")).Json<List<SubscriptionResource>>();
        var groups = (await user.RunAsync("group", "list", "--subscription", id.ToString(), "-o", "json")).Json<List<ResourceGroupResource>>();

        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.Equal(id, created.Json<SubscriptionResource>().SubscriptionId);
        Assert.True(group.ExitCode == 0, group.ToString());
        Assert.Contains("bench-rg", group.Out, StringComparison.Ordinal);
        Assert.Contains(subscriptions, s => s.SubscriptionId == id && s.DisplayName == "Benchmarks");
        var only = Assert.Single(groups);
        Assert.Equal("bench-rg", only.Name);
        Assert.Equal("westeurope", only.Location);
    }

    [Fact]
    public async Task The_table_has_one_line_per_subscription_without_trailing_blanks()
    {
        using var user = new CliUser(server.Url);
        await user.LoginAsync(DemoAccounts.WorkspaceOwner.Email);

        var result = await user.RunAsync("subscription", "list");

        Assert.Equal(0, result.ExitCode);
        var lines = result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("Subscription ID", lines[0], StringComparison.Ordinal);
        Assert.Matches($"^{DemoAccounts.SubscriptionId} +Contoso Research +Enabled$", lines[1]);
    }

    [Fact]
    public async Task A_bad_guid_exits_1_with_the_servers_validation_message()
    {
        using var user = new CliUser(server.Url);
        await user.LoginAsync(DemoAccounts.Operator.Email);

        var result = await user.RunAsync("subscription", "create", "--id", "not-a-guid", "--name", "X");

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.Contains("error: The request is invalid.", result.Error, StringComparison.Ordinal);
        Assert.Contains("subscriptionId: The subscription ID is not a GUID", result.Error, StringComparison.Ordinal);
        Assert.Equal("", result.Out);
    }

    [Fact]
    public async Task A_role_is_assigned_by_email_and_listed_at_the_scope()
    {
        using var user = new CliUser(server.Url);
        await user.LoginAsync(DemoAccounts.Operator.Email);
        var id = Guid.NewGuid();
        Assert.Equal(0, (await user.RunAsync("subscription", "create", "--id", id.ToString(), "--name", "Roles")).ExitCode);
        var scope = $"/subscriptions/{id}";

        var assigned = await user.RunAsync("role", "assign", "--scope", scope, "--role", "Reader", "--email", DemoAccounts.LabUser2.Email, "-o", "json");
        var listed = (await user.RunAsync("role", "list", "--scope", scope, "-o", "json")).Json<List<RoleAssignmentResource>>();

        Assert.True(assigned.ExitCode == 0, assigned.ToString());
        var assignment = assigned.Json<RoleAssignmentResource>();
        Assert.Equal(DemoAccounts.LabUser2.ObjectId, assignment.Properties.PrincipalId);
        Assert.Contains(listed, a => a.Name == assignment.Name && a.Properties.RoleDefinitionName == "Reader" && a.Properties.Scope == scope);

        // `role list` prints full IDs; `role remove` takes one as it is.
        var removed = await user.RunAsync("role", "remove", assignment.Id);
        Assert.True(removed.ExitCode == 0, removed.ToString());
        Assert.DoesNotContain((await user.RunAsync("role", "list", "--scope", scope, "-o", "json")).Json<List<RoleAssignmentResource>>(), a => a.Name == assignment.Name);
    }

    [Fact]
    public async Task An_unknown_role_shows_the_servers_list_of_roles()
    {
        using var user = new CliUser(server.Url);
        await user.LoginAsync(DemoAccounts.Operator.Email);

        var result = await user.RunAsync("role", "assign", "--scope", "/", "--role", "Boss", "--principal-id", Guid.NewGuid().ToString());

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.Contains("roleDefinitionName: The role is one of: Owner, Contributor, Reader, LabUser, PrivacyOfficer, Purger.", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task What_the_roles_do_not_grant_is_refused_with_exit_1()
    {
        using var user = new CliUser(server.Url);
        await user.LoginAsync(DemoAccounts.LabUser1.Email);

        var result = await user.RunAsync("subscription", "create", "--id", Guid.NewGuid().ToString(), "--name", "Mine");

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.StartsWith("error: Forbidden.", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Group_delete_follows_the_operation_to_its_end_and_the_group_is_gone()
    {
        using var user = new CliUser(server.Url);
        await user.LoginAsync(DemoAccounts.Operator.Email);
        var id = Guid.NewGuid().ToString();
        Assert.Equal(0, (await user.RunAsync("subscription", "create", "--id", id, "--name", "Doomed")).ExitCode);
        Assert.Equal(0, (await user.RunAsync("group", "create", "-s", id, "-n", "doomed-rg", "-l", "westeurope")).ExitCode);

        var deleted = await user.RunAsync("group", "delete", "-s", id, "doomed-rg");
        var show = await user.RunAsync("group", "show", "-s", id, "doomed-rg");

        Assert.True(deleted.ExitCode == 0, deleted.ToString());
        Assert.Matches("Status +Succeeded", deleted.Out);
        Assert.Equal(ExitCodes.Failed, show.ExitCode);
        Assert.Contains("Not found.", show.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Group_delete_with_no_wait_prints_the_operation_that_operation_wait_follows()
    {
        using var user = new CliUser(server.Url);
        await user.LoginAsync(DemoAccounts.Operator.Email);
        var id = Guid.NewGuid().ToString();
        Assert.Equal(0, (await user.RunAsync("subscription", "create", "--id", id, "--name", "Later")).ExitCode);
        Assert.Equal(0, (await user.RunAsync("group", "create", "-s", id, "-n", "later-rg", "-l", "westeurope")).ExitCode);

        var started = await user.RunAsync("group", "delete", "-s", id, "later-rg", "--no-wait", "-o", "json");
        var operation = started.Json<OperationStatus>();
        var waited = await user.RunAsync("operation", "wait", operation.Id, "--interval", "0.2", "-o", "json");
        var shown = await user.RunAsync("operation", "show", operation.Name);

        Assert.True(started.ExitCode == 0, started.ToString());
        Assert.True(waited.ExitCode == 0, waited.ToString());
        var done = waited.Json<OperationStatus>();
        Assert.Equal(OperationStates.Succeeded, done.Status);
        Assert.Equal(100, done.PercentComplete);
        Assert.Matches("Status +Succeeded", shown.Out);
    }

    [Fact]
    public async Task A_failed_operation_is_retried_with_operation_retry_and_only_once()
    {
        using var user = new CliUser(server.Url);
        await user.LoginAsync(DemoAccounts.Operator.Email);
        var id = Guid.NewGuid().ToString();
        Assert.Equal(0, (await user.RunAsync("subscription", "create", "--id", id, "--name", "Retried")).ExitCode);
        Assert.Equal(0, (await user.RunAsync("group", "create", "-s", id, "-n", "retried-rg", "-l", "westeurope")).ExitCode);
        var operation = (await user.RunAsync("group", "delete", "-s", id, "retried-rg", "-o", "json")).Json<OperationStatus>();
        // As if its last try had failed (the database was down), checkpoint and all.
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(server.DataDirectory, "lethe.db")}"))
        {
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var fail = connection.CreateCommand();
            fail.CommandText = """UPDATE "Jobs" SET "State" = 'Failed', "Error" = 'The database did not answer.' WHERE upper("Id") = upper($id)""";
            fail.Parameters.AddWithValue("$id", operation.Name);
            Assert.Equal(1, await fail.ExecuteNonQueryAsync(TestContext.Current.CancellationToken));
        }

        var retried = await user.RunAsync("operation", "retry", operation.Name);
        var waited = await user.RunAsync("operation", "wait", operation.Name, "--interval", "0.2", "-o", "json");
        var again = await user.RunAsync("operation", "retry", operation.Id);

        Assert.True(retried.ExitCode == 0, retried.ToString());
        Assert.Matches("Status +(InProgress|Succeeded)", retried.Out);
        Assert.Equal(OperationStates.Succeeded, waited.Json<OperationStatus>().Status);
        Assert.Equal(ExitCodes.Failed, again.ExitCode);
        Assert.Contains("Only a failed operation can be retried", again.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_operation_is_not_found()
    {
        using var user = new CliUser(server.Url);
        await user.LoginAsync(DemoAccounts.Operator.Email);

        var missing = await user.RunAsync("operation", "show", Guid.NewGuid().ToString());
        var malformed = await user.RunAsync("operation", "wait", "abc");
        var elsewhere = await user.RunAsync("operation", "show", "http://example.invalid/operations/" + Guid.NewGuid());

        Assert.Equal(ExitCodes.Failed, missing.ExitCode);
        Assert.Contains("Not found.", missing.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Failed, malformed.ExitCode);
        Assert.Contains("operationId: An operation ID is a GUID.", malformed.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Usage, elsewhere.ExitCode);
    }

    [Fact]
    public async Task The_privacy_map_lists_the_users_table_with_its_strategy()
    {
        using var user = new CliUser(server.Url);
        await user.LoginAsync(DemoAccounts.PrivacyOfficer.Email);

        var table = await user.RunAsync("privacy", "map");
        var map = (await user.RunAsync("privacy", "map", "-o", "json")).Json<PersonalDataMapResponse>();

        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Matches("AspNetUsers +Delete", table.Out);
        Assert.Contains(map.Locations, l => l.Name == "AspNetUsers" && l.Fields.Any(f => f.Name == "NormalizedEmail" && f.IsSubjectKey));
    }

    [Fact]
    public async Task Health_needs_no_login()
    {
        using var user = new CliUser(server.Url);

        var result = await user.RunAsync("health", "-o", "json");

        Assert.True(result.ExitCode == 0, result.ToString());
        // The demo schedules shutdown notices and the test server has no mail server: email is degraded, nothing else.
        var health = result.Json<HealthReportResponse>();
        Assert.Equal("Degraded", health.Status);
        Assert.Equal("Healthy", health.Checks["database"]);
        Assert.Equal("Degraded", health.Checks["email"]);
    }

    [Fact]
    public async Task An_unreachable_server_exits_4_and_names_the_url()
    {
        using var user = new CliUser("http://127.0.0.1:9");

        var result = await user.RunAsync("health");

        Assert.Equal(ExitCodes.Unreachable, result.ExitCode);
        Assert.Contains("Cannot reach the Lethe server at http://127.0.0.1:9/", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("subscripton", "list")]
    [InlineData("subscription", "create")]
    [InlineData("role", "assign", "--scope", "/", "--role", "Reader")]
    [InlineData("health", "--server", "ftp://example")]
    public async Task A_wrong_command_line_exits_2_with_a_pointer_to_help(params string[] args)
    {
        using var user = new CliUser(server.Url);

        var result = await user.RunAsync(args);

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.StartsWith("error: ", result.Error, StringComparison.Ordinal);
        Assert.Equal("", result.Out);
    }

    [Fact]
    public async Task A_typo_gets_a_suggestion()
    {
        using var user = new CliUser(server.Url);

        var result = await user.RunAsync("subscripton", "list");

        Assert.Contains("Did you mean 'subscription'?", result.Error, StringComparison.Ordinal);
        Assert.Contains("Run 'lethe --help'", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_group_command_alone_shows_its_help()
    {
        using var user = new CliUser(server.Url);

        var result = await user.RunAsync("role");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("lethe role [command] [options]", result.Out, StringComparison.Ordinal);
        Assert.Contains("assign", result.Out, StringComparison.Ordinal);
    }
}
