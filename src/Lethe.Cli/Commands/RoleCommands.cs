using System.CommandLine;
using System.Globalization;
using Lethe.Client;

namespace Lethe.Cli.Commands;

/// `lethe role list|assign|remove`: role assignments at a scope.
internal static class RoleCommands
{
    public static Command Create(Terminal terminal, CommonOptions options)
    {
        Option<string> Scope(string description) => new("--scope") { Description = description, Required = true, HelpName = "SCOPE" };

        var listScope = Scope("The scope: '/', /subscriptions/{id} or /subscriptions/{id}/resourceGroups/{name}");
        var list = new Command("list", "List the role assignments that apply at a scope: on it and above it").With(listScope, options.Server, options.Output);
        list.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var assignments = await connection.Client.ListRoleAssignmentsAsync(run.Value(listScope)!, ct);
            await WriteAsync(run, assignments, "No role assignments.");
            return ExitCodes.Success;
        });

        var assignScope = Scope("Where the role applies: '/', /subscriptions/{id}, /subscriptions/{id}/resourceGroups/{name}, or a resource ID");
        var role = new Option<string>("--role") { Description = "Owner, Contributor, Reader, LabUser, PrivacyOfficer or Purger", Required = true, HelpName = "ROLE" };
        role.CompletionSources.Add("Owner", "Contributor", "Reader", "LabUser", "PrivacyOfficer", "Purger");
        var principalId = new Option<Guid?>("--principal-id") { Description = "The user's object ID", HelpName = "GUID" };
        var email = new Option<string?>("--email") { Description = "The user's email, instead of --principal-id", HelpName = "EMAIL" };
        var assign = new Command("assign", "Grant a user a role at a scope").With(assignScope, role, principalId, email, options.Server, options.Output);
        assign.Validators.Add(result =>
        {
            if ((result.GetResult(principalId) is null) == (result.GetResult(email) is null))
            {
                result.AddError("Name the user with --principal-id or --email, one of the two.");
            }
        });
        assign.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var request = new CreateRoleAssignmentRequest(run.Value(assignScope)!, run.Value(role)!, run.Value(principalId), run.Value(email));
            var assignment = await connection.Client.CreateRoleAssignmentAsync(request, ct: ct);
            await WriteAsync(run, [assignment], null);
            return ExitCodes.Success;
        });

        var id = new Argument<string>("ID") { Description = "The role assignment's name (a GUID) or its full ID, as `lethe role list` shows them" };
        var remove = new Command("remove", "Revoke a role assignment") { id }.With(options.Server);
        remove.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            // `role list` prints the full ID; its last segment is the name the API deletes by.
            var name = run.Value(id)!.TrimEnd('/').Split('/')[^1];
            await connection.Client.SendAsync(HttpMethod.Delete, $"providers/Microsoft.Authorization/roleAssignments/{Invocation.Segment(name)}", null, ct);
            await run.WriteLineAsync($"Removed role assignment {name}.");
            return ExitCodes.Success;
        });

        return Cli.Group("role", "Role assignments: who may do what, where", list, assign, remove);
    }

    private static async Task WriteAsync(Invocation run, IReadOnlyList<RoleAssignmentResource> assignments, string? none)
    {
        if (run.Json)
        {
            await (none is null && assignments.Count == 1 ? run.WriteJsonAsync(assignments[0]) : run.WriteJsonAsync(assignments));
            return;
        }
        if (assignments.Count == 0 && none is not null)
        {
            await run.WriteNothingAsync(none);
            return;
        }
        var table = Invocation.Table("Name", "Role", "Principal ID", "Scope", "Created");
        foreach (var a in assignments)
        {
            Invocation.AddRow(table, a.Name, a.Properties.RoleDefinitionName, a.Properties.PrincipalId.ToString("D"), a.Properties.Scope,
                a.Properties.CreatedOn.UtcDateTime.ToString("yyyy-MM-dd HH:mm'Z'", CultureInfo.InvariantCulture));
        }
        run.Write(table);
    }
}
