namespace Lethe.Labs;

/// Seed 002: a removed notification email is kept for the lab's period, then anonymized by the sweep.
public static class NotificationEmails
{
    /// Sets (or, with an empty value, removes) the lab's email; a replaced or removed one is kept as removed.
    public static void Change(Lab lab, string email, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(lab);
        var (current, removed, removedAt) = Next(lab.NotificationEmail, lab.RemovedNotificationEmail, lab.NotificationEmailRemovedAt, email, now);
        lab.NotificationEmail = current;
        lab.RemovedNotificationEmail = removed;
        lab.NotificationEmailRemovedAt = removedAt;
    }

    public static void Change(LabVirtualMachine vm, string email, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(vm);
        var (current, removed, removedAt) = Next(vm.NotificationEmail, vm.RemovedNotificationEmail, vm.NotificationEmailRemovedAt, email, now);
        vm.NotificationEmail = current;
        vm.RemovedNotificationEmail = removed;
        vm.NotificationEmailRemovedAt = removedAt;
    }

    /// The decision: the email to use, and the one kept as removed with when.
    public static (string? Current, string? Removed, DateTimeOffset? RemovedAt) Next(string? current, string? removed, DateTimeOffset? removedAt, string requested, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(requested);
        // Stored as the privacy engine finds emails: trimmed and lower-cased.
        var next = requested.Trim().Length == 0 ? null : Privacy.SubjectKeys.NormalizeEmail(requested);
        if (string.Equals(current, next, StringComparison.OrdinalIgnoreCase))
        {
            return (next, removed, removedAt);
        }
        return current is null ? (next, removed, removedAt) : (next, current, now);
    }

    /// The address a VM's notices go to: the VM's own, else the lab's (VM level wins).
    public static string? For(Lab lab, LabVirtualMachine vm)
    {
        ArgumentNullException.ThrowIfNull(lab);
        ArgumentNullException.ThrowIfNull(vm);
        return vm.NotificationEmail ?? lab.NotificationEmail;
    }
}
