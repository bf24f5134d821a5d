// Package mysqltest gives tests a MySQL or MariaDB database of their own:
// created fresh (payorder_test_<random>), migrated, and dropped when the
// test ends, so that tests never collide. The server comes from
// PAYORDER_TEST_MYSQL_URL, a URL such as mysql://root@127.0.0.1:3306/test;
// without it the test is skipped with a message naming the variable.
//
// Private gives a test a whole MariaDB server of its own instead, started
// from the machine's server programs in a temporary directory, which the
// test may crash and start again.
package mysqltest
