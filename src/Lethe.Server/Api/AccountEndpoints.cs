using System.Security.Claims;
using Lethe.Client;
using Lethe.Identity;
using Lethe.Mail;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Lethe.Server.Api;

/// Who may have an account: the registration gate in front of Identity's `/identity/register`, invitations,
/// and the operator's list of users (`Lethe:Identity:Registration`, decision 0080).
public static partial class AccountEndpoints
{
    public const string InvitationPage = "/account/invitation";

    public static void MapAccountEndpoints(this WebApplication app)
    {
        var identity = app.MapGroup("/identity").WithTags("Identity");
        identity.MapGet("/registration", (IOptions<RegistrationOptions> options) => TypedResults.Ok(new RegistrationInfo(options.Value.Registration.ToString())))
            .WithName("GetRegistration").AllowAnonymous();

        var invitations = identity.MapGroup("/invitations");
        invitations.MapPost("", InviteAsync).WithName("CreateInvitation").RequireAuthorization()
            .Produces<InvitationResource>(StatusCodes.Status201Created).ProducesValidationProblem().ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status409Conflict);
        invitations.MapGet("", ListInvitationsAsync).WithName("ListInvitations").RequireAuthorization().Produces<ArmList<InvitationResource>>();
        invitations.MapDelete("/{id:guid}", RevokeInvitationAsync).WithName("RevokeInvitation").RequireAuthorization()
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        invitations.MapPost("/accept", AcceptInvitationAsync).WithName("AcceptInvitation").AllowAnonymous()
            .Produces<UserResource>(StatusCodes.Status201Created).ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status410Gone);

        var users = identity.MapGroup("/users").RequireAuthorization();
        users.MapGet("", ListUsersAsync).WithName("ListUsers").Produces<ArmList<UserResource>>().ProducesProblem(StatusCodes.Status403Forbidden);
        users.MapPost("/{id:guid}/disable", (Guid id, ClaimsPrincipal principal, LetheDb db, UserManager<LetheUser> userManager, Invitations invitations, CancellationToken ct)
            => SetDisabledAsync(id, true, principal, db, userManager, invitations, ct)).WithName("DisableUser").Produces<UserResource>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        users.MapPost("/{id:guid}/enable", (Guid id, ClaimsPrincipal principal, LetheDb db, UserManager<LetheUser> userManager, Invitations invitations, CancellationToken ct)
            => SetDisabledAsync(id, false, principal, db, userManager, invitations, ct)).WithName("EnableUser").Produces<UserResource>().ProducesProblem(StatusCodes.Status404NotFound);
    }

    /// The gate in front of `POST /identity/register`: the same answer whether or not the email has an account.
    public static async ValueTask<object?> RegistrationGateAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (HttpMethods.IsPost(http.Request.Method) && http.Request.Path.Equals("/identity/register", StringComparison.OrdinalIgnoreCase))
        {
            var options = http.RequestServices.GetRequiredService<IOptions<RegistrationOptions>>().Value;
            var email = context.Arguments.OfType<Microsoft.AspNetCore.Identity.Data.RegisterRequest>().FirstOrDefault()?.Email;
            if (!options.AllowsSignUp(email))
            {
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status403Forbidden,
                    title: "Registration is closed.",
                    detail: options.Registration == RegistrationMode.Domains
                        ? "This server lets people sign up only with an email address of its own domains. Ask an operator for an invitation."
                        : "Accounts on this server are made by invitation. Ask an operator for one.");
            }
            if (email is not null && Invitations.EmailProblem(email) is { } problem)
            {
                return Problems.Invalid("email", problem);
            }
        }
        return await next(context);
    }

    public static async Task<Results<Created<InvitationResource>, ValidationProblem, ProblemHttpResult>> InviteAsync(
        InviteRequest request, ClaimsPrincipal principal, Invitations invitations, Mailer mailer, IConfiguration configuration, HttpRequest http, ILoggerFactory logs, CancellationToken ct)
    {
        if (Invitations.EmailProblem(request.Email) is { } emailProblem)
        {
            return Problems.Invalid("email", emailProblem);
        }
        if (Invitations.DisplayNameProblem(request.DisplayName) is { } nameProblem)
        {
            return Problems.Invalid("displayName", nameProblem);
        }
        var (error, created) = await invitations.CreateAsync(principal.ObjectId(), request.Email, request.DisplayName, ct);
        if (error != InvitationError.None)
        {
            return error switch
            {
                InvitationError.NotAllowed => TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden.", detail: invitations.Options.Registration == RegistrationMode.Closed
                    ? "Registration is Closed: only an operator invites."
                    : "Only an operator or an Owner (of any subscription, group or resource) invites."),
                InvitationError.AccountExists => Problems.Conflict("An account with this email address exists already."),
                _ => Problems.Invalid("email", "The invitation could not be made."),
            };
        }
        var link = InvitationLink(created!.Code, configuration, http);
        var mailed = await TryMailInvitationAsync(mailer, created.Invitation, link, logs, ct);
        return TypedResults.Created($"/identity/invitations/{created.Invitation.Id:D}", ToResource(created.Invitation, DateTimeOffset.UtcNow) with { Link = link, Mailed = mailed });
    }

    public static async Task<Ok<ArmList<InvitationResource>>> ListInvitationsAsync(ClaimsPrincipal principal, Invitations invitations, TimeProvider clock, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var list = await invitations.ListAsync(principal.ObjectId(), ct);
        return TypedResults.Ok(new ArmList<InvitationResource>([.. list.Select(i => ToResource(i, now))], null));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeInvitationAsync(Guid id, ClaimsPrincipal principal, Invitations invitations, CancellationToken ct)
        => await invitations.RevokeAsync(principal.ObjectId(), id, ct) switch
        {
            InvitationError.None => TypedResults.NoContent(),
            InvitationError.UnknownCode => Problems.NotFound("The invitation"),
            InvitationError.Used => Problems.Conflict("The invitation was accepted already: disable the account instead."),
            InvitationError.Expired => Problems.Conflict("The invitation has expired already."),
            _ => Problems.Conflict("The invitation was withdrawn already."),
        };

    public static async Task<Results<Created<UserResource>, ValidationProblem, ProblemHttpResult>> AcceptInvitationAsync(AcceptInvitationRequest request, Invitations invitations, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(request.Code))
        {
            return Problems.Invalid("code", "The invitation's code (from its link) is required.");
        }
        if (Invitations.DisplayNameProblem(request.DisplayName) is { } nameProblem)
        {
            return Problems.Invalid("displayName", nameProblem);
        }
        var accepted = await invitations.AcceptAsync(request.Code, request.Password, request.DisplayName, ct);
        return accepted.Error switch
        {
            InvitationError.None => TypedResults.Created("/me", ToResource(accepted.User!)),
            InvitationError.InvalidPassword => TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["password"] = [.. accepted.PasswordErrors!] }, title: "The request is invalid."),
            InvitationError.AccountExists => Problems.Conflict("An account with this email address exists already: sign in instead."),
            _ => InvitationProblem(accepted.Error),
        };
    }

    /// The answer for a link that does not work (also the invitation page's message).
    public static ProblemHttpResult InvitationProblem(InvitationError error) => error switch
    {
        InvitationError.Used => TypedResults.Problem(statusCode: StatusCodes.Status410Gone, title: "The invitation was used.", detail: InvitationMessage(error)),
        InvitationError.Expired => TypedResults.Problem(statusCode: StatusCodes.Status410Gone, title: "The invitation has expired.", detail: InvitationMessage(error)),
        InvitationError.Revoked => TypedResults.Problem(statusCode: StatusCodes.Status410Gone, title: "The invitation was withdrawn.", detail: InvitationMessage(error)),
        _ => TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The invitation link is not valid.", detail: InvitationMessage(error)),
    };

    public static string InvitationMessage(InvitationError error) => error switch
    {
        InvitationError.Used => "This invitation link was used already: an invitation makes one account. Sign in with it.",
        InvitationError.Expired => "This invitation link has expired. Ask whoever invited you for a new one.",
        InvitationError.Revoked => "This invitation was withdrawn. Ask whoever invited you for a new one.",
        _ => "This is not an invitation link of this server. Copy the whole link from the invitation.",
    };

    public static async Task<Results<Ok<ArmList<UserResource>>, ValidationProblem, ProblemHttpResult>> ListUsersAsync(
        ClaimsPrincipal principal, LetheDb db, Invitations invitations, HttpRequest request, [FromQuery(Name = "$top")] int? top, [FromQuery(Name = "$skipToken")] string? skipToken, CancellationToken ct)
    {
        if (!await invitations.IsOperatorAsync(principal.ObjectId(), ct))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden.", detail: "Only an operator (Owner at the root scope) lists the users.");
        }
        if (Paging.Problem(top, skipToken) is { } paging)
        {
            return paging;
        }
        var page = await Paging.PageAsync(db.Users.AsNoTracking().OrderBy(u => u.CreatedAt).ThenBy(u => u.Id), request, top, skipToken, ToResource, ct);
        return TypedResults.Ok(page);
    }

    /// Disabling locks the account for good and changes its security stamp, so its sessions and tokens end at once
    /// on every node (SessionCheck); enabling lifts the lock. An operator cannot disable themself.
    public static async Task<Results<Ok<UserResource>, ProblemHttpResult>> SetDisabledAsync(
        Guid id, bool disabled, ClaimsPrincipal principal, LetheDb db, UserManager<LetheUser> users, Invitations invitations, CancellationToken ct)
    {
        var me = principal.ObjectId();
        if (!await invitations.IsOperatorAsync(me, ct))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden.", detail: "Only an operator (Owner at the root scope) disables or enables accounts.");
        }
        if (disabled && id == me)
        {
            return Problems.Conflict("You cannot disable your own account.");
        }
        var user = await users.FindByIdAsync(id.ToString());
        if (user is null)
        {
            return Problems.NotFound("The account");
        }
        await users.SetLockoutEnabledAsync(user, true);
        await users.SetLockoutEndDateAsync(user, disabled ? DateTimeOffset.MaxValue : null);
        if (disabled)
        {
            await users.UpdateSecurityStampAsync(user);
        }
        return TypedResults.Ok(ToResource(user));
    }

    public static bool IsDisabled(LetheUser user) => user.LockoutEnd is { } end && end.Year >= 9999;

    private static UserResource ToResource(LetheUser u)
        => new(u.Id, u.Email ?? "", u.DisplayName, u.CreatedAt, IsDisabled(u), u.EmailConfirmed);

    private static InvitationResource ToResource(Invitation i, DateTimeOffset now)
        => new(i.Id, i.Email, i.DisplayName, i.StateAt(now).ToString(), i.CreatedAt, i.ExpiresAt, i.AcceptedAt, i.InvitedBy);

    /// Mails the invitation when a mail server is configured; false when none is or it refused. The inviter still has
    /// the link to pass on, and the log names the invitation, never the address.
    public static async Task<bool> TryMailInvitationAsync(Mailer mailer, Invitation invitation, string link, ILoggerFactory logs, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(mailer);
        ArgumentNullException.ThrowIfNull(invitation);
        ArgumentNullException.ThrowIfNull(logs);
        if (!mailer.Enabled)
        {
            return false;
        }
        try
        {
            await mailer.SendAsync(ComposeInvitation(mailer, invitation, link), ct);
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogMailFailed(logs.CreateLogger("Lethe.Invitations"), invitation.Id, e.GetType().Name);
            return false;
        }
    }

    /// The link the person opens: the configured public address (`Lethe:Smtp:PublicUrl`), else this request's own.
    public static string InvitationLink(string code, IConfiguration configuration, HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(request);
        var root = configuration["Lethe:Smtp:PublicUrl"] is { Length: > 0 } configured ? configured.TrimEnd('/') : $"{request.Scheme}://{request.Host}{request.PathBase}";
        return $"{root}{InvitationPage}?code={Uri.EscapeDataString(code)}";
    }

    private static MimeKit.MimeMessage ComposeInvitation(Mailer mailer, Invitation invitation, string link)
    {
        var until = invitation.ExpiresAt.ToString("yyyy-MM-dd HH:mm 'UTC'", System.Globalization.CultureInfo.InvariantCulture);
        return mailer.Compose(
            invitation.Email,
            "You are invited to Lethe",
            $"""
                You are invited to make an account on Lethe.

                Open this link to choose your password (it works once, until {until}):
                {link}
                """,
            $"""
                <p>You are invited to make an account on Lethe.</p>
                <p><a href="{System.Net.WebUtility.HtmlEncode(link)}">Choose your password</a> (the link works once, until {until}).</p>
                """);
    }

    [LoggerMessage(LogLevel.Warning, "The invitation {InvitationId} could not be mailed ({ExceptionType}); its link was given to the inviter")]
    private static partial void LogMailFailed(ILogger log, Guid invitationId, string exceptionType);
}
