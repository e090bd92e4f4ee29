using System.CommandLine;
using System.Globalization;
using Lethe.Client;

namespace Lethe.Cli.Commands;

/// `lethe user invite|invitations|revoke|list|disable|enable`: who has an account (operators; owners invite
/// unless registration is Closed).
internal static class UserCommands
{
    public static Command Create(Terminal terminal, CommonOptions options)
    {
        var email = new Argument<string>("EMAIL") { Description = "The email address to invite" };
        var displayName = new Option<string?>("--display-name") { Description = "The name the account starts with (the person can change it)", HelpName = "NAME" };
        var invite = new Command("invite", "Invite someone by email: the link makes one account and expires") { email }.With(displayName, options.Server, options.Output);
        invite.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var invitation = await connection.Client.InviteAsync(run.Value(email)!, run.Value(displayName), ct);
            if (run.Json)
            {
                await run.WriteJsonAsync(invitation);
                return ExitCodes.Success;
            }
            await run.WriteLineAsync(invitation.Mailed == true
                ? "Invitation sent by email. The link, should it not arrive (it works once):"
                : "No mail server is configured (Lethe:Smtp:Host), so pass this link on yourself (it works once):");
            await run.WriteLineAsync(invitation.Link ?? "");
            await run.WriteLineAsync($"It expires {Time(invitation.ExpiresAt)}.");
            return ExitCodes.Success;
        });

        var invitations = new Command("invitations", "List invitations: all for an operator, your own for an owner").With(options.Server, options.Output);
        invitations.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var list = await connection.Client.ListInvitationsAsync(ct);
            if (run.Json)
            {
                await run.WriteJsonAsync(list);
                return ExitCodes.Success;
            }
            if (list.Count == 0)
            {
                await run.WriteNothingAsync("No invitations.");
                return ExitCodes.Success;
            }
            var table = Invocation.Table("ID", "Email", "State", "Created", "Expires");
            foreach (var i in list)
            {
                Invocation.AddRow(table, i.Id.ToString("D"), i.Email, i.State, Time(i.CreatedAt), Time(i.ExpiresAt));
            }
            run.Write(table);
            return ExitCodes.Success;
        });

        var invitationId = new Argument<Guid>("ID") { Description = "The invitation's ID, as `lethe user invitations` shows it" };
        var revoke = new Command("revoke", "Withdraw a pending invitation: its link stops working") { invitationId }.With(options.Server);
        revoke.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            await connection.Client.RevokeInvitationAsync(run.Value(invitationId), ct);
            await run.WriteLineAsync("Invitation withdrawn.");
            return ExitCodes.Success;
        });

        var list = new Command("list", "List the accounts (operators)").With(options.Server, options.Output);
        list.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var users = new List<UserResource>();
            await foreach (var user in connection.Client.ListUsersAsync(ct))
            {
                users.Add(user);
            }
            if (run.Json)
            {
                await run.WriteJsonAsync(users);
                return ExitCodes.Success;
            }
            var table = Invocation.Table("Object ID", "Email", "Name", "Created", "State");
            foreach (var u in users)
            {
                Invocation.AddRow(table, u.Id.ToString("D"), u.Email, u.DisplayName, Time(u.CreatedAt), u.Disabled ? "disabled" : "active");
            }
            run.Write(table);
            return ExitCodes.Success;
        });

        return Cli.Group("user", "Accounts: invitations, the list of users, disabling an account",
            invite, invitations, revoke, list, Toggle(terminal, options, disable: true), Toggle(terminal, options, disable: false));
    }

    /// `disable` and `enable`: by object ID or email (found in the operator's list, so the email never travels in a URL).
    private static Command Toggle(Terminal terminal, CommonOptions options, bool disable)
    {
        var user = new Argument<string>("USER") { Description = "The account's object ID or email" };
        var command = new Command(disable ? "disable" : "enable", disable
            ? "Disable an account: it cannot sign in, and its sessions and tokens end at once"
            : "Enable a disabled account again") { user }.With(options.Server, options.Output);
        command.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var named = run.Value(user)!.Trim();
            Guid id;
            if (!Guid.TryParse(named, out id))
            {
                UserResource? found = null;
                await foreach (var u in connection.Client.ListUsersAsync(ct))
                {
                    if (string.Equals(u.Email, named, StringComparison.OrdinalIgnoreCase))
                    {
                        found = u;
                        break;
                    }
                }
                id = found?.Id ?? throw new CliException("No account has that email address.");
            }
            var result = disable ? await connection.Client.DisableUserAsync(id, ct) : await connection.Client.EnableUserAsync(id, ct);
            if (run.Json)
            {
                await run.WriteJsonAsync(result);
            }
            else
            {
                await run.WriteLineAsync(disable ? $"Disabled {result.Id:D}: its sessions have ended." : $"Enabled {result.Id:D}.");
            }
            return ExitCodes.Success;
        });
        return command;
    }

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm'Z'", CultureInfo.InvariantCulture);
}
