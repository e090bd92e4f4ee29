using System.CommandLine;
using Lethe.Client;
using Spectre.Console;

namespace Lethe.Cli.Commands;

/// `lethe login`, `lethe logout`, `lethe whoami`.
internal static class AccountCommands
{
    public static Command CreateLogin(Terminal terminal, CommonOptions options)
    {
        var email = new Option<string?>("--email") { Description = "The account's email; asked for when not given", HelpName = "EMAIL" };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the password from standard input, for scripts; otherwise it is asked for, hidden" };
        var command = new Command("login", "Sign in to a Lethe server; the tokens are kept, readable by you only, in ~/.config/lethe/credentials.json")
            .With(options.Server, email, passwordStdin, options.Output);
        command.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: false, ct);
            var address = run.Value(email);
            if (string.IsNullOrWhiteSpace(address))
            {
                address = terminal.IsInteractive
                    ? await terminal.Console.PromptAsync(new TextPrompt<string>("Email:"), ct)
                    : throw CliException.Usage("--email is needed: there is no terminal to ask for it.");
            }
            var password = run.Value(passwordStdin) ? await ReadPasswordAsync(terminal.In, ct)
                : terminal.IsInteractive ? await terminal.Console.PromptAsync(new TextPrompt<string>("Password:").Secret(null), ct)
                : throw CliException.Usage("There is no terminal to ask for the password.", "Pipe it in with --password-stdin.");

            AccessTokenResponse tokens;
            try
            {
                tokens = await connection.Client.LoginAsync(address.Trim(), password, ct);
            }
            catch (LetheUnauthorizedException e)
            {
                throw new CliException(ExitCodes.NotLoggedIn, $"Login to {connection.Server} failed: {LoginFailure(e.Detail)}", null, e);
            }
            var credentials = new Credentials(connection.Server, tokens.AccessToken, tokens.RefreshToken, terminal.Clock.GetUtcNow().AddSeconds(tokens.ExpiresIn));
            await CredentialStore.For(terminal).SaveAsync(credentials, ct);

            var me = await connection.Client.GetMeAsync(ct);
            if (run.Json)
            {
                await run.WriteJsonAsync(new { server = connection.Server, me.ObjectId, me.Email, me.DisplayName, credentials.ExpiresAt });
            }
            else
            {
                await run.WriteLineAsync($"Logged in to {connection.Server} as {me.DisplayName} <{me.Email}>.");
            }
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command CreateLogout(Terminal terminal, CommonOptions options)
    {
        var command = new Command("logout", "Forget the stored login");
        command.Handle(terminal, options, async (run, ct) =>
        {
            var store = CredentialStore.For(terminal);
            var credentials = await StoredOrNullAsync(store, ct);
            if (!store.Delete())
            {
                await run.WriteLineAsync("You were not logged in.");
                return ExitCodes.Success;
            }
            await run.WriteLineAsync(credentials is null ? "Logged out." : $"Logged out of {credentials.Server}.");
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command CreateWhoami(Terminal terminal, CommonOptions options)
    {
        var command = new Command("whoami", "Show who you are logged in as: object ID, display name, email, author ID and roles")
            .With(options.Server, options.Output);
        command.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var me = await connection.Client.GetMeAsync(ct);
            if (run.Json)
            {
                await run.WriteJsonAsync(me);
                return ExitCodes.Success;
            }
            run.Write(Invocation.Details(
                ("Server", connection.Server.ToString()),
                ("Object ID", me.ObjectId.ToString("D")),
                ("Display name", me.DisplayName),
                ("Email", me.Email),
                ("Author ID", me.AuthorId)));
            if (me.Roles.Count == 0)
            {
                await run.WriteLineAsync("Roles          none");
                return ExitCodes.Success;
            }
            await run.WriteLineAsync("");
            var table = Invocation.Table("Role", "Scope");
            foreach (var role in me.Roles)
            {
                Invocation.AddRow(table, role.Role, role.Scope);
            }
            run.Write(table);
            return ExitCodes.Success;
        });
        return command;
    }

    /// `echo "$PASSWORD" | lethe login --password-stdin`: the whole input, less the newline echo adds.
    private static async Task<string> ReadPasswordAsync(TextReader input, CancellationToken ct)
    {
        var password = (await input.ReadToEndAsync(ct)).TrimEnd('\r', '\n');
        return password.Length > 0 ? password : throw CliException.Usage("--password-stdin: standard input held no password.");
    }

    // Identity's /identity/login answers 401 with the sign-in result as the problem's detail.
    private static string LoginFailure(string? detail) => detail switch
    {
        "LockedOut" or "Lockedout" => "the account is locked: an operator disabled it, or too many failed attempts locked it for a while.",
        "NotAllowed" => "the account may not sign in (is its email confirmed?).",
        "RequiresTwoFactor" => "the account needs a two-factor code, which `lethe login` cannot send yet.",
        _ => "wrong email or password.",
    };

    private static async Task<Credentials?> StoredOrNullAsync(CredentialStore store, CancellationToken ct)
    {
        try
        {
            return await store.LoadAsync(ct);
        }
        catch (CliException)
        {
            // A damaged file is still removed by logout.
            return null;
        }
    }
}
