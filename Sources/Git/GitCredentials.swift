internal import CGit2
import Foundation

/// How to sign in to a remote: a user and password (https; the password may be a token), or
/// an ssh key. Offered once per fetch: a remote that refuses them fails the fetch.
public enum GitCredentials: Sendable, Equatable {
    case userPassword(user: String, password: String)
    /// `publicKey` nil: libgit2 derives it from the private key.
    case sshKey(user: String, privateKey: String, publicKey: String?, passphrase: String?)
}

/// What libgit2's callbacks are handed: the credentials, whether they were offered, and the
/// fetch attempt (abandoned: its transfer is aborted at the next callback).
final class CredentialOffer {
    let credentials: GitCredentials?
    let attempt: FetchAttempt?
    var offered = false

    init(_ credentials: GitCredentials?, attempt: FetchAttempt? = nil) {
        self.credentials = credentials
        self.attempt = attempt
    }

    /// Sets the callbacks: credentials offered once, and a transfer aborted once abandoned;
    /// valid while `self` lives.
    func install(in callbacks: inout git_remote_callbacks) {
        callbacks.credentials = acquireCredential
        callbacks.transfer_progress = abortIfAbandoned
        callbacks.sideband_progress = abortSidebandIfAbandoned
        callbacks.payload = Unmanaged.passUnretained(self).toOpaque()
    }
}

/// A non-zero return aborts the transfer.
private let abortIfAbandoned: git_indexer_progress_cb = { _, payload in
    Unmanaged<CredentialOffer>.fromOpaque(payload!).takeUnretainedValue().attempt?.isAbandoned == true ? -1 : 0
}

private let abortSidebandIfAbandoned: git_transport_message_cb = { _, _, payload in
    Unmanaged<CredentialOffer>.fromOpaque(payload!).takeUnretainedValue().attempt?.isAbandoned == true ? -1 : 0
}

/// libgit2 asks again after a refusal: the second time, give up (GIT_EAUTH) rather than loop.
private let acquireCredential: git_credential_acquire_cb = { out, _, userFromURL, allowedTypes, payload in
    let offer = Unmanaged<CredentialOffer>.fromOpaque(payload!).takeUnretainedValue()
    guard let credentials = offer.credentials, !offer.offered else { return GIT_EAUTH.rawValue }
    offer.offered = true
    switch credentials {
    case .userPassword(let user, let password):
        guard allowedTypes & GIT_CREDENTIAL_USERPASS_PLAINTEXT.rawValue != 0 else { return GIT_PASSTHROUGH.rawValue }
        return git_credential_userpass_plaintext_new(out, user, password)
    case .sshKey(let user, let privateKey, let publicKey, let passphrase):
        guard allowedTypes & GIT_CREDENTIAL_SSH_KEY.rawValue != 0 else { return GIT_PASSTHROUGH.rawValue }
        let name = userFromURL.map { String(cString: $0) } ?? user
        return git_credential_ssh_key_new(out, name, publicKey, privateKey, passphrase)
    }
}
