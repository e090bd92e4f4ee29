using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace Lethe.Demo;

/// Writes one table's rows inside the connection's open transaction, as fast as the provider can: PostgreSQL's
/// binary COPY (Lethe.Storage.Postgres); prepared INSERT statements otherwise (<see cref="ScaleData"/>, which is what
/// SQLite does best).
public interface IBulkCopy
{
    Task WriteAsync(DbConnection connection, DbTransaction transaction, BulkTable table, IReadOnlyList<object> rows, CancellationToken ct);
}

/// An entity's table as the EF model maps it: its name and its columns, each with the provider's value conversion
/// (GUIDs as text and times as ticks on SQLite, enums as strings, lists as JSON or arrays), so that any entity is
/// written exactly as SaveChanges would write it, without its change tracking.
public sealed class BulkTable
{
    private BulkTable(string name, string delimitedName, IReadOnlyList<BulkColumn> columns)
    {
        Name = name;
        DelimitedName = delimitedName;
        Columns = columns;
    }

    public string Name { get; }

    /// The name quoted for the provider, with its schema if it has one.
    public string DelimitedName { get; }

    /// Every column but a key the database numbers itself.
    public IReadOnlyList<BulkColumn> Columns { get; }

    public static BulkTable For(LetheDb db, Type type)
    {
        ArgumentNullException.ThrowIfNull(db);
        var entity = db.Model.FindEntityType(type) ?? throw new InvalidOperationException($"{type.Name} is not an entity of the Lethe database.");
        var name = entity.GetTableName() ?? throw new InvalidOperationException($"{type.Name} is not mapped to a table.");
        var store = StoreObjectIdentifier.Table(name, entity.GetSchema());
        var sql = db.GetService<ISqlGenerationHelper>();
        var columns = entity.GetProperties()
            .Where(p => !IsIdentity(p))
            .Select(p =>
            {
                var column = p.GetColumnName(store) ?? throw new InvalidOperationException($"{type.Name}.{p.Name} has no column.");
                return new BulkColumn(p, column, sql.DelimitIdentifier(column), p.GetRelationalTypeMapping(), p.GetGetter());
            })
            .ToList();
        return new BulkTable(name, sql.DelimitIdentifier(name, entity.GetSchema()), columns);
    }

    // Integer keys that the database numbers itself (identity, autoincrement) are left to it.
    private static bool IsIdentity(IProperty property)
        => property.IsPrimaryKey() && property.ValueGenerated == ValueGenerated.OnAdd && (property.ClrType == typeof(int) || property.ClrType == typeof(long));
}

public sealed record BulkColumn(IProperty Property, string Name, string DelimitedName, RelationalTypeMapping Mapping, IClrPropertyGetter Getter)
{
    /// The value as the provider stores it, through the model's value converter; null for NULL.
    public object? ValueOf(object entity)
    {
        var value = Getter.GetClrValueUsingContainingEntity(entity);
        if (value is not null && Mapping.Converter is { } converter)
        {
            value = converter.ConvertToProvider(value);
        }
        return value;
    }
}
