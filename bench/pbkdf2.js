// The real-program row "node pbkdf2": one password hashed ten times, as a
// login loop would; prints each key.
const crypto = require('crypto');
for (let i = 0; i < 10; i++) {
  const k = crypto.pbkdf2Sync('correct horse battery staple', 'salt-1234', 200000, 64, 'sha512');
  console.log(i, k.toString('hex'));
}
