using System.Globalization;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Lethe.Labs;

/// The SMTP server Lethe sends notices through (`Lethe:Smtp`), and the public address of the portal
/// that the notices link to.
public sealed class SmtpOptions
{
    public const string Section = "Lethe:Smtp";

    /// Empty: no mail is sent (the notice is still recorded and the shutdown still happens).
    public string? Host { get; set; }

    public int Port { get; set; } = 25;

    public string From { get; set; } = "lethe@localhost";

    public string? UserName { get; set; }

    public string? Password { get; set; }

    /// None, Auto, SslOnConnect or StartTls (MailKit's SecureSocketOptions).
    public SecureSocketOptions Security { get; set; } = SecureSocketOptions.Auto;

    /// The portal's address as users reach it, e.g. https://lethe.example.org; the links in notices start with it.
    public string PublicUrl { get; set; } = "http://localhost:5080";
}

/// Sends the auto-shutdown notice of seed 002 over SMTP with MailKit.
public sealed class LabMail(IOptions<SmtpOptions> options)
{
    private readonly Mail.Mailer _mailer = new(options);

    public bool Enabled => _mailer.Enabled;

    public static string NoticeUrl(string publicUrl, string token)
    {
        ArgumentNullException.ThrowIfNull(publicUrl);
        return publicUrl.TrimEnd('/') + "/Labs/Shutdown/" + Uri.EscapeDataString(token);
    }

    /// The message: which VM shuts down when, and the page where it is postponed or skipped.
    public MimeMessage ComposeNotice(string to, Lab lab, LabVirtualMachine vm, DateTimeOffset shutdownAt, string token)
    {
        ArgumentNullException.ThrowIfNull(lab);
        ArgumentNullException.ThrowIfNull(vm);
        var zone = TimeZoneInfo.FindSystemTimeZoneById(lab.TimeZoneId);
        var local = TimeZoneInfo.ConvertTime(shutdownAt, zone);
        var url = NoticeUrl(options.Value.PublicUrl, token);
        var when = local.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " (" + lab.TimeZoneId + ")";
        return _mailer.Compose(
            to,
            $"Virtual machine {vm.Name} in lab {lab.Name} shuts down at {when}",
            $"""
                The virtual machine {vm.Name} in the lab {lab.Name} is scheduled to shut down at {when}.

                To postpone or skip this shutdown, open:
                {url}

                Postpone: {url}?action=postpone
                Skip: {url}?action=skip
                """,
            $"""
                <p>The virtual machine <strong>{System.Net.WebUtility.HtmlEncode(vm.Name)}</strong> in the lab <strong>{System.Net.WebUtility.HtmlEncode(lab.Name)}</strong> is scheduled to shut down at {System.Net.WebUtility.HtmlEncode(when)}.</p>
                <p><a href="{url}?action=postpone">Postpone the shutdown</a> or <a href="{url}?action=skip">skip this shutdown</a>.</p>
                """);
    }

    /// Sent through the one SMTP path of Lethe (<see cref="Mail.Mailer"/>).
    public Task SendAsync(MimeMessage message, CancellationToken ct) => _mailer.SendAsync(message, ct);
}
