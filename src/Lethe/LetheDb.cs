using Lethe.Identity;
using Lethe.Jobs;
using Lethe.Resources;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Lethe;

/// The one database of a Lethe deployment. Provider-agnostic: Lethe.Storage.Sqlite and
/// Lethe.Storage.Postgres wire the provider and carry the migrations. Each module adds its DbSets in
/// a partial file in its own folder and configures its entities with IEntityTypeConfiguration classes,
/// which OnModelCreating picks up from this assembly.
public sealed partial class LetheDb(DbContextOptions<LetheDb> options)
    : IdentityUserContext<LetheUser, Guid, LetheUserClaim, LetheUserLogin, LetheUserToken>(options), IDataProtectionKeyContext
{
    public const string SqliteProvider = "Microsoft.EntityFrameworkCore.Sqlite";

    public DbSet<Subscription> Subscriptions => Set<Subscription>();
    public DbSet<ResourceGroup> ResourceGroups => Set<ResourceGroup>();
    public DbSet<RoleAssignment> RoleAssignments => Set<RoleAssignment>();
    public DbSet<Job> Jobs => Set<Job>();
    public DbSet<DeploymentSecret> DeploymentSecrets => Set<DeploymentSecret>();
    public DbSet<SetAsideRecord> SetAsideRecords => Set<SetAsideRecord>();
    public DbSet<Invitation> Invitations => Set<Invitation>();

    /// ASP.NET Core Data Protection's key ring, shared by every node (see Lethe.Server's DataProtection).
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    public const string LiveExclusiveJobIndex = "IX_Jobs_LiveExclusive";

    public override Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        // Accounts made by Identity's own endpoints (/identity/register) get their creation time here.
        foreach (var entry in ChangeTracker.Entries<LetheUser>())
        {
            if (entry.State == EntityState.Added && entry.Entity.CreatedAt == default)
            {
                entry.Entity.CreatedAt = DateTimeOffset.UtcNow;
            }
        }
        return base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
    }

    protected override void OnConfiguring(DbContextOptionsBuilder optionsBuilder)
    {
        ArgumentNullException.ThrowIfNull(optionsBuilder);
        // EF's Migrate compares the migrations' snapshot with the model before it applies anything: at every start it
        // built the snapshot's model and a design-time model besides the runtime one, for a check that can only fail
        // on a developer's machine. MigrationSnapshotTests makes the same comparison for both providers in every test
        // run instead (decision 0090).
        optionsBuilder.ConfigureWarnings(w => w.Ignore(RelationalEventId.PendingModelChangesWarning));
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        ArgumentNullException.ThrowIfNull(configurationBuilder);
        // SQLite has no date-time type: stored as text, DateTimeOffset cannot be compared or ordered in SQL.
        // Lethe stores UTC only, so the binary form (ticks with a zero offset) orders correctly.
        if (Database.ProviderName == SqliteProvider)
        {
            configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToBinaryConverter>();
            configurationBuilder.Properties<DateTimeOffset?>().HaveConversion<DateTimeOffsetToBinaryConverter>();
        }
        configurationBuilder.Properties<Enum>().HaveConversion<string>().HaveMaxLength(32);
    }

    protected override void OnModelCreating(ModelBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        base.OnModelCreating(builder);

        builder.Entity<LetheUser>(u =>
        {
            u.Property(x => x.DisplayName).HasMaxLength(256);
        });

        builder.Entity<Subscription>(s =>
        {
            s.HasKey(x => x.Id);
            s.Property(x => x.DisplayName).HasMaxLength(128);
            s.Ignore(x => x.ResourceId);
        });

        builder.Entity<ResourceGroup>(g =>
        {
            g.HasKey(x => new { x.SubscriptionId, x.NameKey });
            g.Property(x => x.Name).HasMaxLength(ResourceId.MaxNameLength);
            g.Property(x => x.NameKey).HasMaxLength(ResourceId.MaxNameLength);
            g.Property(x => x.Location).HasMaxLength(64);
            g.HasOne<Subscription>().WithMany().HasForeignKey(x => x.SubscriptionId).OnDelete(DeleteBehavior.Cascade);
            g.Ignore(x => x.ResourceId);
        });

        builder.Entity<RoleAssignment>(a =>
        {
            a.HasKey(x => x.Id);
            a.Property(x => x.Scope).HasMaxLength(2048);
            a.Property(x => x.ScopeKey).HasMaxLength(2048);
            a.Property(x => x.ResourceGroupKey).HasMaxLength(ResourceId.MaxNameLength);
            // Access checks seek (principal, scope); a principal holds a role once per scope.
            a.HasIndex(x => new { x.PrincipalId, x.ScopeKey, x.Role }).IsUnique();
            // Listing who has access at a scope, and deleting a scope's assignments with it.
            a.HasIndex(x => x.ScopeKey);
            a.HasIndex(x => new { x.SubscriptionId, x.ResourceGroupKey });
        });

        builder.Entity<Job>(j =>
        {
            j.HasKey(x => x.Id);
            j.Property(x => x.Kind).HasMaxLength(128);
            j.Property(x => x.LeaseOwner).HasMaxLength(128);
            j.Property(x => x.ResourceId).HasMaxLength(2048);
            j.Property(x => x.Error).HasMaxLength(4000);
            // Claims look for due pending work and expired leases.
            j.HasIndex(x => new { x.State, x.RunAfter });
            j.HasIndex(x => x.RequestedBy);
            // One live exclusive job per kind and resource. The filter reads the same on SQLite and PostgreSQL.
            j.HasIndex(x => new { x.Kind, x.ResourceId }).IsUnique()
                .HasDatabaseName(LiveExclusiveJobIndex)
                .HasFilter($"\"Exclusive\" AND \"State\" IN ('{nameof(JobState.Pending)}', '{nameof(JobState.Running)}')");
        });

        builder.Entity<SetAsideRecord>(r =>
        {
            r.HasKey(x => new { x.Kind, x.RecordKey });
            r.Property(x => x.Kind).HasMaxLength(128);
            r.Property(x => x.RecordKey).HasMaxLength(256);
            r.Property(x => x.LastError).HasMaxLength(4000);
        });

        builder.Entity<DeploymentSecret>(s =>
        {
            s.HasKey(x => x.Name);
            s.Property(x => x.Name).HasMaxLength(64);
        });

        builder.ApplyConfigurationsFromAssembly(typeof(LetheDb).Assembly);
    }
}
