using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Xml.Linq;
using Lethe.Identity;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.Options;

namespace Lethe.Server.Hosting;

/// Where the data-protection keys are protected at rest. Optional: by default they are encrypted
/// with a key derived from a deployment secret (see <see cref="DataProtection"/>).
public sealed class DataProtectionOptions
{
    public const string Section = "Lethe:DataProtection";

    /// A PFX file whose certificate encrypts the keys: then a copy of the database alone (a backup,
    /// a stolen dump) cannot decrypt them. Every node needs the same certificate.
    public string? CertificatePath { get; set; }

    public string? CertificatePassword { get; set; }
}

/// ASP.NET Core Data Protection signs and encrypts bearer and refresh tokens, the portal cookie,
/// Identity's email and reset tokens and antiforgery tokens. Its key ring lives in the database
/// (<see cref="LetheDb.DataProtectionKeys"/>), so every node reads and writes the same keys and what
/// one node issued, another accepts. The application name is fixed: by default it is the content
/// root, which differs from node to node and would keep their protectors apart.
///
/// Keys are protected at rest. With a certificate configured, by the certificate (kept outside the
/// database). Without, by AES-GCM under a key derived (HKDF) from a random deployment secret that
/// Lethe makes at first start and keeps in another table: that needs nothing from the operator and
/// keeps the keys out of reach of anything that sees the key table only (a query, an export, a log
/// of rows), though not of a full copy of the database; hence the certificate for deployments
/// that must resist that too.
internal static class DataProtection
{
    public const string ApplicationName = "Lethe";

    public static void AddLetheDataProtection(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(DataProtectionOptions.Section).Get<DataProtectionOptions>() ?? new();
        var protection = builder.Services.AddDataProtection()
            .SetApplicationName(ApplicationName)
            .PersistKeysToDbContext<LetheDb>();
        if (!string.IsNullOrWhiteSpace(options.CertificatePath))
        {
            protection.ProtectKeysWithCertificate(X509CertificateLoader.LoadPkcs12FromFile(options.CertificatePath, options.CertificatePassword));
            return;
        }
        builder.Services.AddSingleton<DeploymentKeyEncryption>();
        builder.Services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(services =>
            new ConfigureOptions<KeyManagementOptions>(o => o.XmlEncryptor = new DeploymentKeyXmlEncryptor(services.GetRequiredService<DeploymentKeyEncryption>())));
    }
}

/// The key that encrypts data-protection keys at rest, derived once per process from the deployment
/// secret. Read synchronously because Data Protection's encryptors are synchronous; it happens once.
internal sealed class DeploymentKeyEncryption(IServiceScopeFactory scopes, TimeProvider clock)
{
    private static readonly byte[] Purpose = "Lethe data-protection keys at rest, v1"u8.ToArray();

    private readonly Lazy<byte[]> _key = new(() =>
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<LetheDb>();
        var secret = DeploymentSecret.GetOrCreateAsync(db, DeploymentSecret.DataProtectionKey, clock, CancellationToken.None).GetAwaiter().GetResult();
        return HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, 32, salt: [], info: Purpose);
    }, LazyThreadSafetyMode.ExecutionAndPublication);

    private const int NonceSize = 12;
    private const int TagSize = 16;

    public string Encrypt(string plaintext)
    {
        var plain = System.Text.Encoding.UTF8.GetBytes(plaintext);
        var sealedBytes = new byte[NonceSize + TagSize + plain.Length];
        var nonce = sealedBytes.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key.Value, TagSize);
        aes.Encrypt(nonce, plain, sealedBytes.AsSpan(NonceSize + TagSize), sealedBytes.AsSpan(NonceSize, TagSize));
        return Convert.ToBase64String(sealedBytes);
    }

    public string Decrypt(string sealedText)
    {
        var sealedBytes = Convert.FromBase64String(sealedText);
        var plain = new byte[sealedBytes.Length - NonceSize - TagSize];
        using var aes = new AesGcm(_key.Value, TagSize);
        aes.Decrypt(sealedBytes.AsSpan(0, NonceSize), sealedBytes.AsSpan(NonceSize + TagSize), sealedBytes.AsSpan(NonceSize, TagSize), plain);
        return System.Text.Encoding.UTF8.GetString(plain);
    }
}

internal sealed class DeploymentKeyXmlEncryptor(DeploymentKeyEncryption encryption) : IXmlEncryptor
{
    public EncryptedXmlInfo Encrypt(XElement plaintextElement)
    {
        ArgumentNullException.ThrowIfNull(plaintextElement);
        var element = new XElement("encryptedKey",
            new XComment(" Encrypted with AES-256-GCM under a key derived from Lethe's deployment secret. "),
            new XElement("value", encryption.Encrypt(plaintextElement.ToString(SaveOptions.DisableFormatting))));
        return new EncryptedXmlInfo(element, typeof(DeploymentKeyXmlDecryptor));
    }
}

/// Made by Data Protection's activator from the type name stored with each key, with the services.
internal sealed class DeploymentKeyXmlDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement)
    {
        ArgumentNullException.ThrowIfNull(encryptedElement);
        var value = encryptedElement.Element("value")?.Value ?? throw new CryptographicException("The encrypted key has no value.");
        return XElement.Parse(services.GetRequiredService<DeploymentKeyEncryption>().Decrypt(value));
    }
}
