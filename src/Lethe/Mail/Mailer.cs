using Lethe.Labs;
using MailKit.Net.Smtp;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Lethe.Mail;

/// Sends mail through the SMTP server of `Lethe:Smtp` with MailKit; with no host configured, nothing is sent
/// (<see cref="Enabled"/> is false and the caller says so where its user sees it).
public sealed class Mailer(IOptions<SmtpOptions> options)
{
    public bool Enabled => !string.IsNullOrWhiteSpace(options.Value.Host);

    public SmtpOptions Options => options.Value;

    /// A message from the configured sender.
    public MimeMessage Compose(string to, string subject, string text, string html)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(options.Value.From));
        message.To.Add(MailboxAddress.Parse(to));
        message.Subject = subject;
        message.Body = new BodyBuilder { TextBody = text, HtmlBody = html }.ToMessageBody();
        return message;
    }

    public async Task SendAsync(MimeMessage message, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(message);
        var o = options.Value;
        using var client = new SmtpClient();
        await client.ConnectAsync(o.Host ?? throw new InvalidOperationException("Lethe:Smtp:Host is not set."), o.Port, o.Security, ct);
        if (!string.IsNullOrEmpty(o.UserName))
        {
            await client.AuthenticateAsync(o.UserName, o.Password ?? "", ct);
        }
        await client.SendAsync(message, ct);
        await client.DisconnectAsync(quit: true, ct);
    }
}
