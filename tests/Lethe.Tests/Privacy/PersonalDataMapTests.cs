using Lethe.Privacy;
using Lethe.Tests.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Lethe.Tests.Privacy;

/// The personal-data map is derived from declarations on the entities; these tests walk the real
/// EF model and fail when a property that looks like personal data carries no declaration, or a
/// declaration names no strategy. Adding an entity needs no change here: it is walked like the rest.
public sealed class PersonalDataMapTests
{
    public static TheoryData<DatabaseProvider> Providers => ModelOnlyDb.Providers;

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

    /// The server builds its map from the runtime model it already has (decision 0090): the same map, field by field
    /// and in the same erasure order, as the design-time model's.
    [Theory]
    [MemberData(nameof(Providers))]
    public void The_runtime_model_gives_the_same_map_as_the_design_time_model(DatabaseProvider provider)
    {
        using var db = ModelOnlyDb.For(provider);

        var designTime = Describe(PersonalDataMap.Build(db.GetService<IDesignTimeModel>().Model, []));
        var runtime = Describe(PersonalDataMap.Build(db.Model, []));

        Assert.True(designTime.Count > 15, "The map should list the model's tables.");
        Assert.Equal(designTime, runtime);
    }

    private static List<string> Describe(PersonalDataMap map)
        => map.ErasureOrder.Select(l => string.Join(" ", l.Module, l.Kind, l.Name, l.ClrType, l.Strategy, l.RetentionDays, l.RetentionSetting,
                l.Reason, l.Phase, l.Sweep, l.IsSubjectRecord, string.Join(",", l.Fields.Select(f =>
                    $"{f.Name}:{f.Category}:{f.Subject}:{f.IsSubjectKey}:{f.IsName}:{f.Export}:{f.KeyCase}:{f.ClrType}"))))
            .Concat(map.Problems).ToList();

    [Theory]
    [MemberData(nameof(Providers))]
    public void The_map_covers_accounts_role_assignments_and_jobs(DatabaseProvider provider)
    {
        var map = PersonalDataMap.Build(LetheModel(provider), []);

        var users = Assert.Single(map.Locations, l => l.Name == "AspNetUsers");
        Assert.Equal("Identity", users.Module);
        Assert.Equal(ErasureStrategy.Delete, users.Strategy);
        // Identity's own columns, redeclared on LetheUser's overrides, are seen.
        Assert.Contains(users.Fields, f => f is { Name: "Email", Category: PersonalDataCategory.Contact, Subject: SubjectKind.Email, IsSubjectKey: false });
        Assert.Contains(users.Fields, f => f is { Name: "Id", Subject: SubjectKind.ObjectId, IsSubjectKey: true });
        // The account is found by email through Identity's indexed, upper-cased column.
        Assert.Contains(users.Fields, f => f is { Name: "NormalizedEmail", IsSubjectKey: true, KeyCase: KeyCase.Upper });
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
        Assert.Contains(map.Problems, p => p.StartsWith("UnindexedKey.OwnerKey is a subject key without an index", StringComparison.Ordinal));
        Assert.Contains(map.Problems, p => p == "Lease retains then anonymizes but names no sweep that anonymizes it.");
        Assert.Contains(map.Problems, p => p == "UnsweptRetention retains then anonymizes but names no sweep that anonymizes it.");
        // Nothing is reported for what is sound, so the count is exact.
        Assert.Equal(10, map.Problems.Count);
    }

    [Fact]
    public void A_location_needs_exactly_one_source_and_its_sweep()
    {
        var blob = new PersonalBlobLocation("Labs", "exports", "{labName}/", PersonalDataCategory.Identifier, SubjectKind.ObjectId, ErasureStrategy.Delete, "Exports");
        var map = PersonalDataMap.Build(FlawedModel(), [blob]);
        var sound = map.ProblemsWith([], []).Except(map.Problems).ToList();

        // A blob location has no generic source; a retain-then-anonymize table needs its module's source and sweep.
        Assert.Contains(sound, p => p == "exports/{labName}/ is a blob location without a source that can find, export and erase it.");
        Assert.Contains(sound, p => p.StartsWith("SoundVm retains then anonymizes, which the generic table source cannot do", StringComparison.Ordinal));
        Assert.Contains(sound, p => p == "SoundVm retains then anonymizes but its sweep (vm.anonymize) is not registered.");

        var covered = map.ProblemsWith(["exports/{labName}/", "SoundVm", "Lease", "UnsweptRetention"], ["vm.anonymize"]).Except(map.Problems).ToList();
        Assert.DoesNotContain(covered, p => p.Contains("exports/", StringComparison.Ordinal) || p.Contains("SoundVm", StringComparison.Ordinal));
        Assert.Contains(map.ProblemsWith(["SoundLedger", "SoundLedger"], []), p => p == "SoundLedger has 2 sources; a location has exactly one.");
        Assert.Contains(map.ProblemsWith(["Nowhere"], []), p => p == "A source is registered for Nowhere, which is not a location of the map.");
    }

    [Fact]
    public void A_blob_location_whose_container_or_prefix_cannot_be_resolved_is_a_problem()
    {
        var broken = new PersonalBlobLocation("Labs", "{storage", "{}/x", PersonalDataCategory.Identifier, SubjectKind.ObjectId, ErasureStrategy.Delete, "Broken");

        var map = PersonalDataMap.Build(FlawedModel(), [broken]);

        Assert.Contains(map.Problems, p => p.StartsWith("Blob location {storage/{}/x has a container or prefix that cannot be resolved", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public void Every_column_of_the_identity_tables_is_declared_and_secrets_are_never_exported(DatabaseProvider provider)
    {
        var model = LetheModel(provider);
        var map = PersonalDataMap.Build(model, []);

        foreach (var entity in model.GetEntityTypes().Where(e => e.GetTableName()?.StartsWith("AspNet", StringComparison.Ordinal) == true))
        {
            foreach (var property in entity.GetProperties())
            {
                var info = property.PropertyInfo!;
                Assert.True(
                    info.GetCustomAttributes(typeof(PersonalDataAttribute), true).Length + info.GetCustomAttributes(typeof(NotPersonalDataAttribute), true).Length == 1,
                    $"{entity.ClrType.Name}.{property.Name} is not declared.");
            }
        }
        var users = Assert.Single(map.Locations, l => l.Name == "AspNetUsers");
        Assert.All(new[] { "PasswordHash", "SecurityStamp", "ConcurrencyStamp" }, name => Assert.Contains(users.Fields, f => f.Name == name && f.Export == PersonalDataExport.Omit));
        Assert.Contains(Assert.Single(map.Locations, l => l.Name == "AspNetUserTokens").Fields, f => f.Name == "Value" && f.Export == PersonalDataExport.Omit);
        // The account goes last: every other table location comes before it in an erasure.
        Assert.Equal("AspNetUsers", map.ErasureOrder[^1].Name);
        Assert.True(map.ErasureOrder.ToList().FindIndex(l => l.Name == "AspNetUserTokens") < map.ErasureOrder.Count - 1);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public void Every_subject_key_column_of_the_model_has_an_index_that_starts_with_it(DatabaseProvider provider)
    {
        var model = LetheModel(provider);
        var map = PersonalDataMap.Build(model, []);

        foreach (var location in map.Locations.Where(l => l.Kind == "table"))
        {
            var entity = model.GetEntityTypes().Single(e => e.ClrType.FullName == location.ClrType);
            foreach (var key in location.Keys)
            {
                var property = entity.FindProperty(key.Name)!;
                Assert.True(entity.GetIndexes().Any(i => i.Properties[0] == property) || entity.GetKeys().Any(k => k.Properties[0] == property),
                    $"{location.Name}.{key.Name} is a subject key without an index that starts with it.");
            }
        }
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
        using var db = ModelOnlyDb.For(provider);
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
        modelBuilder.Entity<UnindexedKey>();
        modelBuilder.Entity<UnsweptRetention>().HasIndex(x => x.HolderKey);
        // Every other key is indexed, so that each entity shows only its own flaw.
        modelBuilder.Entity<Visit>().HasIndex(x => x.VisitorKey);
        modelBuilder.Entity<Lease>().HasIndex(x => x.HolderKey);
        modelBuilder.Entity<Invoice>().HasIndex(x => x.BuyerKey);
        modelBuilder.Entity<LabNotice>().HasIndex(x => x.RecipientKey);
        modelBuilder.Entity<SoundVm>().HasIndex(x => x.OwnerObjectId);
        modelBuilder.Entity<SoundLedger>().HasIndex(x => x.PayerKey);
    }
}

/// A subject key without an index: finding a person would scan the table.
[Erasure(ErasureStrategy.Delete)]
internal sealed class UnindexedKey
{
    public int Id { get; set; }

    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId, IsSubjectKey = true)]
    public Guid OwnerKey { get; set; }
}

/// Retain-then-anonymize with a period but no sweep that ends it.
[Erasure(ErasureStrategy.RetainThenAnonymize, RetentionDays = 30)]
internal sealed class UnsweptRetention
{
    public int Id { get; set; }

    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId, IsSubjectKey = true)]
    public Guid HolderKey { get; set; }
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
[Erasure(ErasureStrategy.RetainThenAnonymize, RetentionDays = 30, RetentionSetting = "Lab.PersonalDataRetention", Sweep = "vm.anonymize")]
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
