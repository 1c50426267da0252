// The real-program row "node pbkdf2": one password hashed ten times, as a
// login loop would, with OWASP's recommended setting for PBKDF2
// (HMAC-SHA-256, 600,000 rounds); prints each key.
const crypto = require('crypto');
for (let i = 0; i < 10; i++) {
  const k = crypto.pbkdf2Sync('correct horse battery staple', 'salt-1234', 600000, 32, 'sha256');
  console.log(i, k.toString('hex'));
}
