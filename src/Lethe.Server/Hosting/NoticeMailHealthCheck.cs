using Lethe.Labs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Lethe.Server.Hosting;

/// `email` in `/health/ready`: Degraded when auto-shutdown notices are configured (a lab or live VM with a
/// schedule and a notification email) but no SMTP server is (`Lethe:Smtp:Host`), so nobody gets them by
/// mail; also while notices' emails are failing. Healthy otherwise, and when no notice is configured.
internal sealed class NoticeMailHealthCheck(LetheDb db, LabMail mail) : IHealthCheck
{
    public const string Name = "email";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!mail.Enabled)
        {
            var configured = await db.Labs.AnyAsync(l => l.ShutdownTime != null && l.NotificationEmail != null, cancellationToken)
                || await db.LabVirtualMachines.AnyAsync(v => v.DeletedAt == null
                    && (v.ShutdownTime != null || v.Lab!.ShutdownTime != null)
                    && (v.NotificationEmail != null || v.Lab!.NotificationEmail != null), cancellationToken);
            return configured
                ? HealthCheckResult.Degraded("Auto-shutdown notices are configured but no SMTP server is (Lethe:Smtp:Host): notices are recorded and shown on the VM's page in the portal, and no email is sent.")
                : HealthCheckResult.Healthy("No SMTP server is configured, and no auto-shutdown notice needs one.");
        }
        var failing = await db.LabShutdownNotices.CountAsync(n => n.MailState == NoticeMailState.Failed && n.MailNextAttemptAt != null
            && (n.State == ShutdownNoticeState.Notified || n.State == ShutdownNoticeState.Postponed), cancellationToken);
        return failing == 0
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Degraded($"{failing} auto-shutdown notice email(s) failed to send and are being retried; the VMs' pages show when.");
    }
}
