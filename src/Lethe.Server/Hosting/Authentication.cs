using System.Net.Mail;
using System.Security.Claims;
using Lethe.Identity;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Identity;

namespace Lethe.Server.Hosting;

/// An optional external OpenID Connect / JWT authority (Entra ID, Keycloak, ...). Its users are
/// provisioned on first sight, keyed by their object ID (`oid`, else `sub` when it is a GUID).
public sealed class ExternalAuthorityOptions
{
    public const string Section = "Lethe:Authentication:Jwt";

    public string? Authority { get; set; }
    public string? Audience { get; set; }
    public bool RequireHttpsMetadata { get; set; } = true;

    public bool IsConfigured => !string.IsNullOrWhiteSpace(Authority);
}

internal static class Authentication
{
    public const string SelectorScheme = "Lethe";
    public const string ExternalScheme = "External";

    public static void AddLetheIdentity(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddIdentityApiEndpoints<LetheUser>(o =>
            {
                o.User.RequireUniqueEmail = true;
                // The user name is the email, and emails may be internationalized (zoë@example.test): the email's
                // own validation applies, not Identity's ASCII list of user name characters.
                o.User.AllowedUserNameCharacters = "";
                o.Password.RequiredLength = 10;
                o.Lockout.MaxFailedAccessAttempts = 10;
            })
            .AddEntityFrameworkStores<LetheDb>();

        services.ConfigureApplicationCookie(o =>
        {
            o.LoginPath = "/account/login";
            o.LogoutPath = "/account/logout";
            o.AccessDeniedPath = "/account/denied";
            o.Cookie.Name = "lethe";
            o.Cookie.SameSite = SameSiteMode.Lax;
            o.Cookie.HttpOnly = true;
            // API callers get status codes (problem details), browsers on portal pages get the sign-in page.
            o.Events.OnRedirectToLogin = ctx => RedirectOrStatus(ctx, StatusCodes.Status401Unauthorized);
            o.Events.OnRedirectToAccessDenied = ctx => RedirectOrStatus(ctx, StatusCodes.Status403Forbidden);
        });

        var external = builder.Configuration.GetSection(ExternalAuthorityOptions.Section).Get<ExternalAuthorityOptions>() ?? new();
        var authentication = services.AddAuthentication(o =>
        {
            o.DefaultScheme = SelectorScheme;
            o.DefaultChallengeScheme = SelectorScheme;
        });
        authentication.AddPolicyScheme(SelectorScheme, "Bearer token, external JWT or portal cookie", o =>
            o.ForwardDefaultSelector = ctx => SelectScheme(ctx, external.IsConfigured));
        if (external.IsConfigured)
        {
            authentication.AddJwtBearer(ExternalScheme, o =>
            {
                o.Authority = external.Authority;
                o.Audience = external.Audience;
                o.RequireHttpsMetadata = external.RequireHttpsMetadata;
                o.MapInboundClaims = false;
                o.Events = new JwtBearerEvents { OnTokenValidated = ProvisionExternalUserAsync };
            });
        }
        services.AddAuthorization();
        services.AddSingleton<AuthorIds>();

        // Who may have an account: Closed unless configured; a demo (`Lethe:Demo`) is Open unless configured.
        var identity = builder.Configuration.GetSection(RegistrationOptions.Section);
        services.AddOptions<RegistrationOptions>().Bind(identity)
            .PostConfigure(o =>
            {
                if (identity[nameof(RegistrationOptions.Registration)] is null && builder.Configuration.GetValue<bool>("Lethe:Demo"))
                {
                    o.Registration = RegistrationMode.Open;
                }
            })
            .Validate(o => o.Registration != RegistrationMode.Domains || o.DomainSet.Count > 0, "Lethe:Identity:Registration is Domains but Lethe:Identity:Domains lists no domain.")
            .Validate(o => o.InvitationDays is > 0 and <= 365, "Lethe:Identity:InvitationDays is between 1 and 365.")
            .ValidateOnStart();
        services.AddScoped<Invitations>();
        services.AddSingleton<Lethe.Mail.Mailer>();
    }

    internal static string SelectScheme(HttpContext context, bool externalConfigured)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            // Identity's bearer tokens are opaque; a JWT has three dot-separated parts.
            var token = header.AsSpan(7).Trim();
            return externalConfigured && token.Count('.') == 2 ? ExternalScheme : IdentityConstants.BearerScheme;
        }
        return IdentityConstants.ApplicationScheme;
    }

    private static Task RedirectOrStatus(RedirectContext<Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationOptions> ctx, int status)
    {
        if (IsPortalRequest(ctx.Request))
        {
            ctx.Response.Redirect(ctx.RedirectUri);
        }
        else
        {
            ctx.Response.StatusCode = status;
        }
        return Task.CompletedTask;
    }

    internal static bool IsPortalRequest(HttpRequest request)
        => request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);

    private static async Task ProvisionExternalUserAsync(TokenValidatedContext context)
    {
        var principal = context.Principal!;
        var raw = principal.FindFirstValue("oid") ?? principal.FindFirstValue("sub");
        if (!Guid.TryParse(raw, out var objectId))
        {
            context.Fail("The token carries no object ID ('oid' or a GUID 'sub').");
            return;
        }
        var users = context.HttpContext.RequestServices.GetRequiredService<UserManager<LetheUser>>();
        var user = await users.FindByIdAsync(objectId.ToString());
        if (user is null)
        {
            // preferred_username is an email with Entra ID, a plain user name with Keycloak.
            var email = principal.FindFirstValue("email")
                ?? (principal.FindFirstValue("preferred_username") is { } name && MailAddress.TryCreate(name, out _) ? name : null);
            user = new LetheUser
            {
                Id = objectId,
                UserName = email ?? objectId.ToString(),
                Email = email,
                EmailConfirmed = email is not null,
                DisplayName = principal.FindFirstValue("name") ?? "",
                CreatedAt = context.HttpContext.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow(),
            };
            // Identity's validator demands an email (RequireUniqueEmail); a user the authority names by object ID alone has none.
            var result = email is not null ? await users.CreateAsync(user) : await CreateWithoutEmailAsync(users, user, context.HttpContext);
            if (!result.Succeeded)
            {
                context.Fail("The external user could not be provisioned: " + string.Join(" ", result.Errors.Select(e => e.Code)));
                return;
            }
        }
        // Downstream, every scheme names the user the same way: NameIdentifier = object ID.
        var identity = new ClaimsIdentity(principal.Claims, ExternalScheme);
        identity.AddClaim(new Claim(ClaimTypes.NameIdentifier, user.Id.ToString()));
        context.Principal = new ClaimsPrincipal(identity);
    }

    private static Task<IdentityResult> CreateWithoutEmailAsync(UserManager<LetheUser> users, LetheUser user, HttpContext http)
    {
        user.SecurityStamp = Guid.NewGuid().ToString("N");
        user.NormalizedUserName = users.NormalizeName(user.UserName);
        return http.RequestServices.GetRequiredService<IUserStore<LetheUser>>().CreateAsync(user, http.RequestAborted);
    }
}
