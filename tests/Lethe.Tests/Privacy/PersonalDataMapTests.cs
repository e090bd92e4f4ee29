using Lethe.Privacy;
using Lethe.Storage.Postgres;
using Lethe.Storage.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Lethe.Tests.Privacy;

/// The personal-data map is derived from declarations on the entities; these tests walk the real
/// EF model and fail when a property that looks like personal data carries no declaration, or a
/// declaration names no strategy. Adding an entity needs no change here: it is walked like the rest.
public sealed class PersonalDataMapTests
{
    public static TheoryData<DatabaseProvider> Providers => new(DatabaseProvider.Sqlite, DatabaseProvider.Postgres);

    [Theory]
    [MemberData(nameof(Providers))]
    public void Every_personal_looking_property_of_the_model_is_declared_and_every_location_has_a_strategy(DatabaseProvider provider)
    {
        var map = PersonalDataMap.Build(LetheModel(provider), []);

        Assert.True(map.Problems.Count == 0, "The personal-data map has problems:\n" + string.Join("\n", map.Problems));
        Assert.NotEmpty(map.Locations);
        Assert.All(map.Locations, location =>
        {
            Assert.True(Enum.IsDefined(location.Strategy), $"{location.Name} names no strategy.");
            Assert.NotEmpty(location.Fields);
            Assert.All(location.Fields.Select(f => f.Subject).Distinct(), subject => Assert.Contains(location.Fields, f => f.IsSubjectKey && f.Subject == subject));
        });
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public void The_map_covers_accounts_role_assignments_and_jobs(DatabaseProvider provider)
    {
        var map = PersonalDataMap.Build(LetheModel(provider), []);

        var users = Assert.Single(map.Locations, l => l.Name == "AspNetUsers");
        Assert.Equal("Identity", users.Module);
        Assert.Equal(ErasureStrategy.Delete, users.Strategy);
        // Identity's own columns, redeclared on LetheUser's overrides, are seen.
        Assert.Contains(users.Fields, f => f is { Name: "Email", Category: PersonalDataCategory.Contact, Subject: SubjectKind.Email, IsSubjectKey: true });
        Assert.Contains(users.Fields, f => f is { Name: "Id", Subject: SubjectKind.ObjectId, IsSubjectKey: true });
        Assert.Contains(users.Fields, f => f.Name == "NormalizedEmail");
        Assert.Contains(users.Fields, f => f.Name == "DisplayName");
        Assert.Contains(users.Fields, f => f.Name == "PhoneNumber");
        Assert.Contains(map.Locations, l => l.Name == "AspNetUserClaims" && l.Strategy == ErasureStrategy.Delete);
        Assert.Contains(map.Locations, l => l.Name == "AspNetUserLogins" && l.Strategy == ErasureStrategy.Delete);
        Assert.Contains(map.Locations, l => l.Name == "AspNetUserTokens" && l.Strategy == ErasureStrategy.Delete);
        var roles = Assert.Single(map.Locations, l => l.Name == "RoleAssignments");
        Assert.Equal(("Resources", ErasureStrategy.Delete), (roles.Module, roles.Strategy));
        Assert.Equal(["PrincipalId"], roles.Fields.Select(f => f.Name));
        var jobs = Assert.Single(map.Locations, l => l.Name == "Jobs");
        Assert.Equal(ErasureStrategy.Anonymize, jobs.Strategy);
        // Tables with nothing personal are not locations.
        Assert.DoesNotContain(map.Locations, l => l.Name is "Subscriptions" or "ResourceGroups" or "DeploymentSecrets");
    }

    [Fact]
    public void Declared_blob_prefixes_are_locations_too()
    {
        var blob = new PersonalBlobLocation("Workspaces", "azureml", "ExperimentRun/", PersonalDataCategory.Content, SubjectKind.ObjectId, ErasureStrategy.Delete, "Job history documents");

        var map = PersonalDataMap.Build(LetheModel(DatabaseProvider.Sqlite), [blob]);

        var location = Assert.Single(map.Locations, l => l.Kind == "blob");
        Assert.Equal(("Workspaces", "azureml/ExperimentRun/", ErasureStrategy.Delete), (location.Module, location.Name, location.Strategy));
        Assert.Equal([new PersonalField("content", PersonalDataCategory.Content, SubjectKind.ObjectId, IsSubjectKey: false)], location.Fields);
        Assert.DoesNotContain(map.Problems, p => p.Contains("azureml", StringComparison.Ordinal));
    }

    [Fact]
    public void Each_missing_or_inconsistent_declaration_is_reported()
    {
        var map = PersonalDataMap.Build(FlawedModel(), []);

        Assert.Contains(map.Problems, p => p.StartsWith("Contact.Email looks like personal data", StringComparison.Ordinal));
        Assert.Contains(map.Problems, p => p.StartsWith("Contact.OwnerObjectId looks like personal data", StringComparison.Ordinal));
        Assert.Contains(map.Problems, p => p == "Visit holds personal data but declares no [Erasure] strategy.");
        Assert.Contains(map.Problems, p => p == "Lease retains then anonymizes but names no retention period in days.");
        Assert.Contains(map.Problems, p => p == "Invoice keeps personal data but states no reason.");
        Assert.Contains(map.Problems, p => p == "Comment has personal data of subject kind ObjectId but no property marked as that subject key.");
        Assert.Contains(map.Problems, p => p == "LabNotice has personal data of subject kind Email but no property marked as that subject key.");
        // Nothing is reported for what is sound, so the count is exact.
        Assert.Equal(7, map.Problems.Count);
    }

    [Fact]
    public void Sound_declarations_give_locations_with_their_strategy_and_period()
    {
        var map = PersonalDataMap.Build(FlawedModel(), []);

        var vm = Assert.Single(map.Locations, l => l.ClrType == typeof(SoundVm).FullName);
        Assert.Equal(ErasureStrategy.RetainThenAnonymize, vm.Strategy);
        Assert.Equal(30, vm.RetentionDays);
        Assert.Equal("Lab.PersonalDataRetention", vm.RetentionSetting);
        Assert.Equal(["OwnerEmail", "OwnerObjectId"], vm.Fields.Select(f => f.Name).Order(StringComparer.Ordinal));
        var kept = Assert.Single(map.Locations, l => l.ClrType == typeof(SoundLedger).FullName);
        Assert.Equal((ErasureStrategy.Keep, (int?)null, "Tax law: 10 years."), (kept.Strategy, kept.RetentionDays, kept.Reason));
        // An entity with no personal data is no location, and [NotPersonalData] excuses a personal-looking name.
        Assert.DoesNotContain(map.Locations, l => l.ClrType == typeof(Catalog).FullName);
        Assert.DoesNotContain(map.Problems, p => p.Contains("Catalog", StringComparison.Ordinal) || p.Contains("SoundVm", StringComparison.Ordinal));
        // Declared but flawed entities are still locations, so the engine does not lose them.
        Assert.Contains(map.Locations, l => l.ClrType == typeof(Lease).FullName);
        Assert.DoesNotContain(map.Locations, l => l.ClrType == typeof(Visit).FullName);
    }

    [Theory]
    [InlineData("Email")]
    [InlineData("email")]
    [InlineData("OwnerEmail")]
    [InlineData("NotificationEmailAddress")]
    [InlineData("DisplayName")]
    [InlineData("UserName")]
    [InlineData("NormalizedUserName")]
    [InlineData("FirstName")]
    [InlineData("LastName")]
    [InlineData("FullName")]
    [InlineData("GivenName")]
    [InlineData("Surname")]
    [InlineData("ObjectId")]
    [InlineData("OwnerObjectId")]
    [InlineData("UserId")]
    [InlineData("PrincipalId")]
    [InlineData("OwnerId")]
    [InlineData("AuthorId")]
    [InlineData("SubmittedBy")]
    [InlineData("CreatedBy")]
    [InlineData("IpAddress")]
    [InlineData("Ip")]
    [InlineData("PhoneNumber")]
    [InlineData("PostalCode")]
    [InlineData("Address")]
    [InlineData("MailingAddress")]
    [InlineData("Name")]
    [InlineData("PersonName")]
    public void Names_that_suggest_personal_data_look_personal(string name) => Assert.True(PersonalDataMap.NameLooksPersonal(name));

    [Theory]
    [InlineData("Id")]
    [InlineData("Location")]
    [InlineData("Kind")]
    [InlineData("Payload")]
    [InlineData("NameKey")]
    [InlineData("ResourceGroupName")]
    [InlineData("LabName")]
    [InlineData("Scope")]
    [InlineData("CreatedAt")]
    [InlineData("Description")]
    [InlineData("Shipping")]
    [InlineData("IpRange")]
    [InlineData("AddressFamily")]
    [InlineData("LeaseOwner")]
    [InlineData("SubscriptionId")]
    public void Names_of_things_do_not_look_personal(string name) => Assert.False(PersonalDataMap.NameLooksPersonal(name));

    private static IModel LetheModel(DatabaseProvider provider)
    {
        var options = new DbContextOptionsBuilder<LetheDb>();
        if (provider == DatabaseProvider.Sqlite)
        {
            options.UseLetheSqlite("Data Source=:memory:");
        }
        else
        {
            // Building the model contacts no server.
            options.UseLethePostgres("Host=localhost;Database=lethe_model_only");
        }
        using var db = new LetheDb(options.Options);
        return db.GetService<IDesignTimeModel>().Model;
    }

    private static IModel FlawedModel()
    {
        using var db = new FlawedDb(new DbContextOptionsBuilder<FlawedDb>().UseSqlite("Data Source=:memory:").Options);
        return db.GetService<IDesignTimeModel>().Model;
    }
}

// A model that is wrong on purpose, one flaw per entity.

internal sealed class FlawedDb(DbContextOptions<FlawedDb> options) : DbContext(options)
{
    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Contact>();
        modelBuilder.Entity<Visit>();
        modelBuilder.Entity<Lease>();
        modelBuilder.Entity<Invoice>();
        modelBuilder.Entity<Comment>();
        modelBuilder.Entity<LabNotice>();
        modelBuilder.Entity<SoundVm>();
        modelBuilder.Entity<SoundLedger>();
        modelBuilder.Entity<Catalog>();
    }
}

/// Personal-looking names with no declaration at all.
internal sealed class Contact
{
    public int Id { get; set; }
    public string? Email { get; set; }
    public Guid OwnerObjectId { get; set; }
}

/// Personal data, but no [Erasure].
internal sealed class Visit
{
    public int Id { get; set; }

    [PersonalData(PersonalDataCategory.Usage, SubjectKind.ObjectId, IsSubjectKey = true)]
    public Guid VisitorKey { get; set; }
}

/// Retain-then-anonymize with no period.
[Erasure(ErasureStrategy.RetainThenAnonymize)]
internal sealed class Lease
{
    public int Id { get; set; }

    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId, IsSubjectKey = true)]
    public Guid HolderKey { get; set; }
}

/// Keep with no reason.
[Erasure(ErasureStrategy.Keep)]
internal sealed class Invoice
{
    public int Id { get; set; }

    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId, IsSubjectKey = true)]
    public Guid BuyerKey { get; set; }
}

/// Personal data that no subject key finds.
[Erasure(ErasureStrategy.Delete)]
internal sealed class Comment
{
    public int Id { get; set; }

    [PersonalData(PersonalDataCategory.Content, SubjectKind.ObjectId)]
    public string Text { get; set; } = "";
}

/// A key for one subject kind, none for the other.
[Erasure(ErasureStrategy.Delete)]
internal sealed class LabNotice
{
    public int Id { get; set; }

    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId, IsSubjectKey = true)]
    public Guid RecipientKey { get; set; }

    [PersonalData(PersonalDataCategory.Contact, SubjectKind.Email)]
    public string NotifyAt { get; set; } = "";
}

/// Sound: seed 002's 30 days, with the setting that overrides them.
[Erasure(ErasureStrategy.RetainThenAnonymize, RetentionDays = 30, RetentionSetting = "Lab.PersonalDataRetention")]
internal sealed class SoundVm
{
    public int Id { get; set; }

    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId, IsSubjectKey = true)]
    public Guid OwnerObjectId { get; set; }

    [PersonalData(PersonalDataCategory.Contact, SubjectKind.ObjectId)]
    public string? OwnerEmail { get; set; }

    [NotPersonalData("Names the VM, not a person.")]
    public string Name { get; set; } = "";
}

/// Sound: kept, with the reason.
[Erasure(ErasureStrategy.Keep, Reason = "Tax law: 10 years.")]
internal sealed class SoundLedger
{
    public int Id { get; set; }

    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId, IsSubjectKey = true)]
    public Guid PayerKey { get; set; }
}

/// Nothing personal; a personal-looking name, excused.
internal sealed class Catalog
{
    public int Id { get; set; }

    [NotPersonalData("Names a catalog entry.")]
    public string Name { get; set; } = "";
}
